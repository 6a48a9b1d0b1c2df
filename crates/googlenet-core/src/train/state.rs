//! Where a training run stands between batches: everything besides the
//! weights that a resumed run needs to continue exactly as if it had never
//! stopped (on the CPU, bit for bit).

use candle_core::Tensor;

use super::evaluate::EvalResult;

/// The state of a run after `epochs_done` whole epochs and `batches_done`
/// batches of the next one (0 at an epoch boundary).
#[derive(Debug, Clone)]
pub struct TrainState {
    pub epochs_done: usize,
    /// Batches of epoch `epochs_done + 1` already trained; non-zero only
    /// for a run stopped mid-epoch.
    pub batches_done: usize,
    /// The shuffle generator's position in its stream (ChaCha8, seeded by
    /// the recipe's seed): the next epoch's shuffle continues from here.
    pub rng_word_pos: u128,
    /// The training order of the current epoch; the next shuffle permutes it
    /// in place, as an uninterrupted run does.
    pub order: Vec<u32>,
    /// The optimizer's buffers, on the CPU, each named
    /// `<slot>.<parameter>` (`momentum.conv1.weight`, `exp_avg.fc.bias`;
    /// see [`Optimizer::slots`](super::Optimizer::slots)); empty before the first step.
    pub optimizer: Vec<(String, Tensor)>,
    /// Updates the optimizer has made (Adam's bias correction counts them).
    pub optimizer_step: u64,
    /// Sum of the batch losses of the unfinished epoch, so its mean covers
    /// the batches trained before the stop too.
    pub epoch_loss_sum: f64,
    /// Test accuracy after the last finished epoch, if it was evaluated.
    pub test_accuracy: Option<f64>,
    /// Every finished epoch's summary, earlier runs' included.
    pub history: Vec<EpochSummary>,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochSummary {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Training time of the epoch, evaluation excluded.
    pub seconds: f64,
    pub train_images_per_sec: f64,
    /// The model on the validation set after the epoch, if one was given.
    pub test: Option<EvalResult>,
    pub eval_seconds: Option<f64>,
}

impl EpochSummary {
    /// One JSON object, as the examples print per epoch and a checkpoint
    /// keeps its history: `{"type":"epoch","epoch","loss","seconds",
    /// "trainImagesPerSec"}`, plus `testAccuracy`, `testCorrect`,
    /// `testTotal`, `testLoss` and `evalSeconds` after an evaluation.
    pub fn to_json(&self) -> String {
        let mut json = format!(
            "{{\"type\":\"epoch\",\"epoch\":{},\"loss\":{},\"seconds\":{:.3},\"trainImagesPerSec\":{:.1}",
            self.epoch, self.loss, self.seconds, self.train_images_per_sec
        );
        if let (Some(test), Some(eval_seconds)) = (&self.test, self.eval_seconds) {
            json += &format!(
                ",\"testAccuracy\":{},\"testCorrect\":{},\"testTotal\":{},\"testLoss\":{},\"evalSeconds\":{:.3}",
                test.accuracy, test.correct, test.total, test.loss, eval_seconds
            );
        }
        json + "}"
    }

    /// Reads [`EpochSummary::to_json`]'s line back; says what is wrong with
    /// a line that is not one ("is not a JSON object (…)", "lacks …").
    pub fn from_json(line: &str) -> std::result::Result<Self, String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| format!("is not a JSON object ({e})"))?;
        let number = |key: &str| object.get(key).and_then(serde_json::Value::as_f64);
        let count = |key: &str| object.get(key).and_then(serde_json::Value::as_u64).map(|v| v as usize);
        let need = |key: &str, value: Option<f64>| value.ok_or_else(|| format!("lacks a number '{key}'"));
        let test = match (number("testAccuracy"), count("testCorrect"), count("testTotal"), number("testLoss")) {
            (None, None, None, None) => None,
            (Some(accuracy), Some(correct), Some(total), Some(loss)) => Some(EvalResult { correct, total, accuracy, loss }),
            _ => return Err("lacks some of testAccuracy, testCorrect, testTotal and testLoss (they go together)".into()),
        };
        Ok(Self {
            epoch: count("epoch").ok_or("lacks a whole number 'epoch'")?,
            loss: need("loss", number("loss"))?,
            seconds: need("seconds", number("seconds"))?,
            train_images_per_sec: need("trainImagesPerSec", number("trainImagesPerSec"))?,
            eval_seconds: match &test {
                Some(_) => Some(need("evalSeconds", number("evalSeconds"))?),
                None => None,
            },
            test,
        })
    }
}
