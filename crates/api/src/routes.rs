pub mod activities;
pub mod auth;
pub mod claims;
pub mod health;
pub mod invitations;
pub mod managers;
pub mod shares;
pub mod users;
