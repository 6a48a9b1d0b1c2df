use candle_core::Device;

use super::tutorial_net::{TutorialNet, Widths};
use super::InceptionA;
use crate::Result;

/// The reference model of DESIGN.md §1 (97,298 parameters):
/// conv1 5×5 1→10, max-pool 2, ReLU, Inception-A(10), conv2 5×5 88→20,
/// max-pool 2, ReLU, Inception-A(20), flatten, linear 1408→10.
pub type GoogLeNet = TutorialNet<InceptionA>;

/// A fresh reference GoogLeNet; `seed` fixes the initial weights.
pub fn googlenet(seed: u64, device: &Device) -> Result<GoogLeNet> {
    let widths = Widths { conv1: 10, block1: InceptionA::OUT_CHANNELS, conv2: 20, features: InceptionA::OUT_CHANNELS * 4 * 4 };
    TutorialNet::new("googlenet", ["incep1", "incep2"], widths, InceptionA::new, seed, device)
}
