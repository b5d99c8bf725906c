//! gRPC channels to compute nodes, one per address, shared by all sessions.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tonic::transport::{Channel, Endpoint};
use tributary_proto::compute::batch_service_client::BatchServiceClient;
use tributary_proto::compute::dml_service_client::DmlServiceClient;

use crate::error::{FrontendError, Result};

#[derive(Default, Debug)]
pub struct ComputeClientPool {
    channels: Mutex<HashMap<String, Channel>>,
}

impl ComputeClientPool {
    fn channel(&self, addr: &str) -> Result<Channel> {
        let mut channels = self.channels.lock();
        if let Some(c) = channels.get(addr) {
            return Ok(c.clone());
        }
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| FrontendError::Internal(format!("bad compute address {addr}: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }

    pub fn dml(&self, addr: &str) -> Result<DmlServiceClient<Channel>> {
        Ok(DmlServiceClient::new(self.channel(addr)?).max_encoding_message_size(usize::MAX))
    }

    pub fn batch(&self, addr: &str) -> Result<BatchServiceClient<Channel>> {
        Ok(BatchServiceClient::new(self.channel(addr)?).max_decoding_message_size(usize::MAX))
    }
}
