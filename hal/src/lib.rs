//! Hardware abstraction: capability traits for the door hardware and their backends.
