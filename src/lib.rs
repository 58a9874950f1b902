#![allow(unsafe_code)]
pub mod sys;
