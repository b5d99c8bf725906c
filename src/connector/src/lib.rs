//! Connectors: sources and sinks of external systems (Kafka, datagen, nexmark, Postgres CDC;
//! Kafka/Postgres/blackhole sinks). Empty until the Kafka pipelines issue: tables are fed by DML.
