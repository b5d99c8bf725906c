//! gRPC clients of compute nodes, one lazily connected channel per address.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tonic::transport::{Channel, Endpoint};
use tributary_proto::compute::stream_service_client::StreamServiceClient;

use crate::error::{MetaError, MetaResult};

#[derive(Default)]
pub struct ComputeClientPool {
    channels: Mutex<HashMap<String, Channel>>,
}

impl ComputeClientPool {
    pub fn stream_client(&self, addr: &str) -> MetaResult<StreamServiceClient<Channel>> {
        let mut channels = self.channels.lock();
        if let Some(c) = channels.get(addr) {
            return Ok(StreamServiceClient::new(c.clone()).max_decoding_message_size(usize::MAX));
        }
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| MetaError::InvalidInput(format!("bad compute address {addr}: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        let channel = endpoint.connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(StreamServiceClient::new(channel).max_decoding_message_size(usize::MAX))
    }
}
