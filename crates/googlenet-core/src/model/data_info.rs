//! What a model knows of the data it is for: the names of its classes and
//! how its input pixels are normalized. Made from the training data, kept
//! in model files and checkpoints, and read back by everything that runs
//! the model (evaluation, prediction, ONNX export, the page of `serve`).

use std::collections::HashMap;

use super::Description;
use crate::data::{check_class_names, numbered_classes, Dataset, Normalization};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct DataInfo {
    /// One name per class score, in order.
    pub classes: Vec<String>,
    pub normalization: Normalization,
}

/// Metadata keys (JSON arrays) of a model file.
const CLASSES: &str = "classes";
const MEAN: &str = "mean";
const STD: &str = "std";

impl DataInfo {
    /// A model made without data: its classes numbered, MNIST's
    /// normalization on every channel (what files written before models
    /// kept their data read as).
    pub fn default_for(description: &Description) -> Self {
        Self { classes: numbered_classes(description.classes()), normalization: Normalization::mnist(description.input[0]) }
    }

    /// The classes and pixel statistics of a training set.
    pub fn of(data: &Dataset) -> Self {
        Self { classes: data.classes().to_vec(), normalization: data.normalization().clone() }
    }

    /// Refuses class names or statistics that do not fit `description`:
    /// one name per class score, one mean and std per input channel.
    pub fn check(&self, description: &Description) -> Result<()> {
        check_class_names(&self.classes)?;
        if self.classes.len() != description.classes() {
            return Err(Error::InvalidArgument(format!(
                "model \"{}\" gives {} class scores, but the data has {} classes",
                description.name,
                description.classes(),
                self.classes.len()
            )));
        }
        if self.normalization.channels() != description.input[0] {
            return Err(Error::InvalidArgument(format!(
                "model \"{}\" takes {}-channel images, but the normalization has {} channels",
                description.name,
                description.input[0],
                self.normalization.channels()
            )));
        }
        Ok(())
    }

    pub(crate) fn to_metadata(&self) -> [(String, String); 3] {
        let json = |v: serde_json::Value| v.to_string();
        [
            (CLASSES.into(), json(self.classes.clone().into())),
            (MEAN.into(), json(self.normalization.mean().to_vec().into())),
            (STD.into(), json(self.normalization.std().to_vec().into())),
        ]
    }

    /// The data info in a file's metadata, or `None` when it has none (a
    /// file written before models kept it, or by PyTorch).
    pub(crate) fn from_metadata(m: &HashMap<String, String>) -> std::result::Result<Option<Self>, String> {
        let Some(classes) = m.get(CLASSES) else { return Ok(None) };
        let classes: Vec<String> =
            serde_json::from_str(classes).map_err(|e| format!("metadata '{CLASSES}' is not a list of names: {e}"))?;
        let numbers = |key: &str| -> std::result::Result<Vec<f32>, String> {
            let value = m.get(key).ok_or_else(|| format!("metadata has '{CLASSES}' but no '{key}'"))?;
            serde_json::from_str(value).map_err(|e| format!("metadata '{key}' is not a list of numbers: {e}"))
        };
        let normalization = Normalization::new(numbers(MEAN)?, numbers(STD)?).map_err(|e| e.to_string())?;
        Ok(Some(Self { classes, normalization }))
    }
}
