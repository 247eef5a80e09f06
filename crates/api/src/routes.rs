pub mod activities;
pub mod auth;
pub mod claims;
pub mod health;
pub mod shares;
pub mod users;
