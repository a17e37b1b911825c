//! `accountcentral-local`: run the whole API locally, print a token for a user, or
//! operate a deployment's table (bootstrap it, import customers' configuration).

mod operator;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use accountcentral_local::seed::{DEMO_USERS, reveal};
use accountcentral_local::{AwsNames, Backend, Environment, LocalError};
use clap::{Parser, Subcommand, ValueEnum};
use operator::OperatorError;
use shared::app::stage_from_env;
use shared::domain::secret::ExposeSecret;

#[derive(Parser)]
#[command(version, about = "AccountCentral's local stand-in: the whole API in one process")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Print a bearer token for a user.
    Token {
        username: String,
        #[arg(long, default_value = "./.accountcentral")]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = BackendArg::Embedded)]
        backend: BackendArg,
    },
    /// Give an empty table the platform customer and a first CUSTOMER_CARE user, whose
    /// one-time password is printed (it must be changed at first login).
    Bootstrap {
        /// The user's username.
        #[arg(long, default_value = "care")]
        username: String,
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Import customers' configuration from a JSON file; nothing is written unless all of it is valid.
    ImportConfig {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the state of an operator command lives.
#[derive(clap::Args, Clone)]
struct StoreArgs {
    /// Where the embedded store (or, on AWS, the development key) lives.
    #[arg(long, default_value = "./.accountcentral")]
    data_dir: PathBuf,
    /// The embedded store, or AWS (TABLE_NAME, the *_QUEUE_URLs, KMS_KEY_ID from the environment).
    #[arg(long, value_enum, default_value_t = BackendArg::Embedded)]
    backend: BackendArg,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Where the embedded store, keys and SMS outbox live.
    #[arg(long, default_value = "./.accountcentral")]
    data_dir: PathBuf,
    /// Where the state lives: local files, or AWS (emulated at AWS_ENDPOINT_URL).
    #[arg(long, value_enum, default_value_t = BackendArg::Embedded)]
    backend: BackendArg,
    /// On AWS, seed the demo tenant (users with known passwords and the care, DKIM and
    /// SERVICE roles) into a table that lacks it. Without it nothing is seeded on AWS: the
    /// table may be a real deployment's. The embedded store is seeded on first start.
    #[arg(long)]
    seed_demo: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Embedded,
    Aws,
}

impl From<BackendArg> for Backend {
    fn from(arg: BackendArg) -> Self {
        match arg {
            BackendArg::Embedded => Backend::Embedded,
            BackendArg::Aws => Backend::Aws(AwsNames::from_env()),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token {
            username,
            data_dir,
            backend,
        }) => token(&username, data_dir, backend.into()).await.map_err(OperatorError::from),
        Some(Command::Bootstrap { username, email, store }) => bootstrap(&username, &email, store).await,
        Some(Command::ImportConfig { file, store }) => import_config(&file, store).await,
        Some(Command::Serve(args)) => serve(args).await.map_err(OperatorError::from),
        None => serve(cli.serve).await.map_err(OperatorError::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("accountcentral-local: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn token(username: &str, data_dir: PathBuf, backend: Backend) -> Result<(), LocalError> {
    if let Backend::Aws(names) = &backend {
        accountcentral_local::require_demo_table(names).await?;
    }
    let environment = Environment::open(&data_dir, backend, stage_from_env()?).await?;
    println!("{}", environment.token(username).await?);
    Ok(())
}

/// Opens the state without seeding it: operator commands work on a deployment's own data.
async fn open(store: StoreArgs) -> Result<Environment, OperatorError> {
    let backend = Backend::from(store.backend);
    if let Backend::Aws(names) = &backend {
        operator::check_deployment(names).await?;
    }
    let stage = stage_from_env().map_err(LocalError::from)?;
    Ok(Environment::open(&store.data_dir, backend, stage).await?)
}

async fn bootstrap(username: &str, email: &str, store: StoreArgs) -> Result<(), OperatorError> {
    let environment = open(store).await?;
    let created = operator::bootstrap(&environment, username, email).await?;
    println!(
        "Created the platform customer (groupPk 1) and the CUSTOMER_CARE user {} (userPk {}).",
        created.user.username, created.user.user_pk
    );
    println!(
        "One-time password (already expired: change it at first login): {}",
        created.password.expose_secret()
    );
    Ok(())
}

async fn import_config(file: &std::path::Path, store: StoreArgs) -> Result<(), OperatorError> {
    let environment = open(store).await?;
    let mut count = 0;
    operator::import_config(&environment, file, |group, summary| {
        count += 1;
        println!("customer {group}: {summary}");
    })
    .await?;
    println!("Imported the configuration of {count} customer(s) from {}.", file.display());
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), LocalError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        // Colours for a terminal only: a log file or pipe gets plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let backend = Backend::from(args.backend);
    let environment = Environment::open(&args.data_dir, backend.clone(), stage_from_env()?).await?;
    let seeded = match backend {
        Backend::Embedded => environment.seed().await?,
        Backend::Aws(_) if args.seed_demo => environment.seed().await?,
        Backend::Aws(_) => None,
    };
    let demo = seeded.is_some() || environment.is_demo().await?;
    let (addr, server) = environment.bind(args.addr).await?;
    let data_dir = args.data_dir.display();
    println!("AccountCentral local stand-in");
    println!("  API:       http://{addr}/v1   (contract: http://{addr}/v1/openapi.json)");
    match backend {
        Backend::Embedded => println!("  Data:      {data_dir} (embedded store; delete it to start afresh)"),
        Backend::Aws(_) => println!(
            "  Data:      AWS at {} (keys and SMS outbox in {data_dir})",
            std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "the default endpoints".into())
        ),
    }
    println!("  SMS:       {data_dir}/sms-outbox.jsonl");
    if !demo {
        println!("  Demo:      none: the table holds no demo tenant (serve --backend aws --seed-demo seeds one)");
        return server.await.map_err(|source| LocalError::Listen { addr, source });
    }
    println!("  Demo users:");
    for demo in DEMO_USERS {
        let password = seeded
            .as_ref()
            .and_then(|s| s.passwords.iter().find(|(name, _)| *name == demo.username))
            .map(|(_, p)| reveal(p));
        let resource = demo.resource.join("/");
        match password {
            Some(password) => println!(
                "    {:<14} {:<14} on {:<14} password {password}",
                demo.username, demo.role, resource
            ),
            None => println!("    {:<14} {:<14} on {resource}", demo.username, demo.role),
        }
    }
    if seeded.is_none() {
        println!("  (passwords were printed at first start only)");
    }
    let backend_flag = if matches!(backend, Backend::Aws(_)) { " --backend aws" } else { "" };
    println!("  Token:     accountcentral-local token acme.admin --data-dir {data_dir}{backend_flag}");
    println!(
        "  Try:       curl -H \"Authorization: Bearer $(accountcentral-local token acme.admin --data-dir {data_dir}{backend_flag})\" http://{addr}/v1/user"
    );
    server.await.map_err(|source| LocalError::Listen { addr, source })
}
