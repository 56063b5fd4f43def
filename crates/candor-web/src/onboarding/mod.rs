//! The owner's first hour: removing the demo trust center in one step, and the organization's
//! uploaded logo.

pub mod demo;
pub mod logo;
