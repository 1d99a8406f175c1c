//! The check of finished ops that the handlers' unchecked accesses rely on.
