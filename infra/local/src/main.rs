//! `accountcentral-local`: run the whole API locally, or print a token for a demo user.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use accountcentral_local::seed::{DEMO_USERS, reveal};
use accountcentral_local::{AwsNames, Backend, Environment, LocalError};
use clap::{Parser, Subcommand, ValueEnum};
use shared::app::stage_from_env;

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
        }) => token(&username, data_dir, backend.into()).await,
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
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
    let environment = Environment::open(&data_dir, backend, stage_from_env()?).await?;
    println!("{}", environment.token(username).await?);
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), LocalError> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let backend = Backend::from(args.backend);
    let environment = Environment::open(&args.data_dir, backend.clone(), stage_from_env()?).await?;
    let seeded = environment.seed().await?;
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
