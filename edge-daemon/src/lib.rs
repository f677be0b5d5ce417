//! The Gerbang edge daemon.
