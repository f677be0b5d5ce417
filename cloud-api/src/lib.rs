//! The Gerbang cloud API.
