//! Hazards: what breaks or behaves differently on AWS Lambda. (Being written.)
