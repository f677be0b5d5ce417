//! The on-device face pipeline (filled by the face-pipeline work).
