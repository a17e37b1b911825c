//! The provisioning queue's message, shared by `createProvisioningJob` (which sends it)
//! and the provisioning worker (which runs the job it names).

use serde::{Deserialize, Serialize};

/// `{"jobId": "<uuid>"}`: run (or go on with) the job. The job's record says what is
/// left to do, so a message received twice, or one more than needed, does nothing new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub job_id: String,
}
