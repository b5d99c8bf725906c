//! Generated gRPC services and messages between Tributary roles; the sources are in `proto/`.

#![allow(clippy::all)]

pub mod common {
    tonic::include_proto!("common");
}
pub mod catalog {
    tonic::include_proto!("catalog");
}
pub mod stream_plan {
    tonic::include_proto!("stream_plan");
}
pub mod meta {
    tonic::include_proto!("meta");
}
pub mod compute {
    tonic::include_proto!("compute");
}
