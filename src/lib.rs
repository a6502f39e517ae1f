//! cainjector: placeholder while the policy lands.
