//! The Settings screen (admin). Each subject has a module of its own; every command starts
//! by checking that the admin area is open.

pub mod delivery;
pub mod office;
