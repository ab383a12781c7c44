//! Scaffolding shared by the integration tests that need it.
#![allow(dead_code)]

pub mod instances;
pub mod masking;
pub mod moto;
pub mod served;
