//! A model written as data: the tree of steps of docs/model-description.md,
//! as the zoo writes its models, `describe` prints them, a JSON file holds
//! one and the TypeScript builder makes one. [`ModelSpec::parse`] reads the
//! JSON with every rule and limit checked (an error names the offending
//! place by its JSON path); [`super::lower`] turns a spec into the
//! [`super::Description`] everything else is derived from.

use serde_json::{Map, Value};

use crate::{Error, Result};

/// The document's `format` field.
pub const FORMAT: &str = "googlenet-native/model";
/// The only `version` this build reads and writes.
pub const VERSION: u64 = 1;

/// The longest JSON text read: 1 MiB, a hundred times the largest zoo model's.
pub const MAX_TEXT_BYTES: usize = 1 << 20;
/// How deeply steps nest (arrays and combinators).
pub const MAX_NESTING: usize = 32;
/// Steps in all, combinators included.
pub const MAX_STEPS: usize = 2_000;
/// Layers with parameters.
pub const MAX_LAYERS: usize = 1_000;
/// Trainable values: 200 MB of f32.
pub const MAX_PARAMS: usize = 50_000_000;
/// Values one step may output per image (and the input may hold).
pub const MAX_VALUES_PER_STEP: usize = 1 << 24;

/// The ranges of the fields, once (the parser and the lowering check them).
pub(crate) const MAX_CHANNELS: usize = 4_096;
pub(crate) const MAX_FEATURES: usize = 65_536;
pub(crate) const MAX_KERNEL: usize = 15;
const MAX_INPUT_CHANNELS: usize = 64;
const MAX_INPUT_SIDE: usize = 1_024;
const MAX_NAME_LEN: usize = 64;

/// A whole model: its name, the images it takes and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub name: String,
    /// Channels, height, width.
    pub input: [usize; 3],
    pub layers: Step,
}

/// One step, with the name it and everything inside it go by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Dot-separated components (`incep1`, `layer1.0`); layers with
    /// parameters always have one.
    pub name: Option<String>,
    pub kind: StepKind,
}

/// What a step computes (see docs/model-description.md for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Conv2d { out_channels: usize, kernel: usize, stride: usize, padding: usize },
    Linear { out_features: usize },
    BatchNorm,
    Relu,
    MaxPool { kernel: usize, stride: usize },
    AvgPool { kernel: usize, stride: usize, padding: usize },
    GlobalAvgPool,
    Flatten,
    Sequential(Vec<Step>),
    Concat(Vec<Step>),
    Residual { body: Box<Step>, shortcut: Option<Box<Step>> },
}

impl Step {
    fn new(kind: StepKind) -> Self {
        Self { name: None, kind }
    }

    /// This step under `name`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// A convolution with a bias, named `name`.
    pub fn conv2d(name: &str, out_channels: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        Self::new(StepKind::Conv2d { out_channels, kernel, stride, padding }).named(name)
    }

    pub fn linear(name: &str, out_features: usize) -> Self {
        Self::new(StepKind::Linear { out_features }).named(name)
    }

    pub fn batch_norm(name: &str) -> Self {
        Self::new(StepKind::BatchNorm).named(name)
    }

    pub fn relu() -> Self {
        Self::new(StepKind::Relu)
    }

    /// A max pool of non-overlapping `kernel`×`kernel` windows.
    pub fn max_pool(kernel: usize) -> Self {
        Self::new(StepKind::MaxPool { kernel, stride: kernel })
    }

    pub fn avg_pool(kernel: usize, stride: usize, padding: usize) -> Self {
        Self::new(StepKind::AvgPool { kernel, stride, padding })
    }

    pub fn global_avg_pool() -> Self {
        Self::new(StepKind::GlobalAvgPool)
    }

    pub fn flatten() -> Self {
        Self::new(StepKind::Flatten)
    }

    pub fn sequential(steps: Vec<Step>) -> Self {
        Self::new(StepKind::Sequential(steps))
    }

    pub fn concat(branches: Vec<Step>) -> Self {
        Self::new(StepKind::Concat(branches))
    }

    pub fn residual(body: Step, shortcut: Option<Step>) -> Self {
        Self::new(StepKind::Residual { body: Box::new(body), shortcut: shortcut.map(Box::new) })
    }

    /// The `type` field this step is written with.
    fn type_name(&self) -> &'static str {
        match self.kind {
            StepKind::Conv2d { .. } => "conv2d",
            StepKind::Linear { .. } => "linear",
            StepKind::BatchNorm => "batchNorm",
            StepKind::Relu => "relu",
            StepKind::MaxPool { .. } => "maxPool",
            StepKind::AvgPool { .. } => "avgPool",
            StepKind::GlobalAvgPool => "globalAvgPool",
            StepKind::Flatten => "flatten",
            StepKind::Sequential(_) => "sequential",
            StepKind::Concat(_) => "concat",
            StepKind::Residual { .. } => "residual",
        }
    }
}

impl ModelSpec {
    /// Reads a description from JSON `text`, every rule and limit checked;
    /// an error is one line naming the JSON path at fault.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(invalid(format!("a model description is at most {MAX_TEXT_BYTES} bytes of JSON (got {})", text.len())));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not a JSON model description: {e}")))?;
        Reader::default().document(&value).map_err(invalid)
    }

    /// The canonical JSON text: fields in a fixed order, defaults left out,
    /// an unnamed sequence as a bare array, one line per leaf step.
    pub fn to_json(&self) -> String {
        let [c, h, w] = self.input;
        let mut out = format!(
            "{{\n  \"format\": \"{FORMAT}\",\n  \"version\": {VERSION},\n  \"name\": {},\n  \"input\": [{c}, {h}, {w}],\n  \"layers\": ",
            quoted(&self.name)
        );
        write_step(&self.layers, 1, &mut out);
        out.push_str("\n}\n");
        out
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// Appends `step` at indentation `level` (the caller wrote the indentation
/// of its first line).
fn write_step(step: &Step, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    let list = |items: &[Step], out: &mut String| {
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&pad);
            out.push_str("  ");
            write_step(item, level + 1, out);
        }
        out.push('\n');
        out.push_str(&pad);
        out.push(']');
    };
    if let (None, StepKind::Sequential(steps)) = (&step.name, &step.kind) {
        return list(steps, out);
    }
    out.push_str(&format!("{{ \"type\": \"{}\"", step.type_name()));
    if let Some(name) = &step.name {
        out.push_str(&format!(", \"name\": {}", quoted(name)));
    }
    let mut field = |key: &str, value: usize| out.push_str(&format!(", \"{key}\": {value}"));
    match step.kind {
        StepKind::Conv2d { out_channels, kernel, stride, padding } => {
            field("outChannels", out_channels);
            field("kernel", kernel);
            if stride != 1 {
                field("stride", stride);
            }
            if padding != 0 {
                field("padding", padding);
            }
        }
        StepKind::Linear { out_features } => field("outFeatures", out_features),
        StepKind::MaxPool { kernel, stride } => {
            field("kernel", kernel);
            if stride != kernel {
                field("stride", stride);
            }
        }
        StepKind::AvgPool { kernel, stride, padding } => {
            field("kernel", kernel);
            if stride != kernel {
                field("stride", stride);
            }
            if padding != 0 {
                field("padding", padding);
            }
        }
        StepKind::BatchNorm | StepKind::Relu | StepKind::GlobalAvgPool | StepKind::Flatten => {}
        StepKind::Sequential(ref steps) => {
            out.push_str(", \"steps\": ");
            list(steps, out);
        }
        StepKind::Concat(ref branches) => {
            out.push_str(", \"branches\": ");
            list(branches, out);
        }
        StepKind::Residual { ref body, ref shortcut } => {
            // Body and shortcut on lines of their own, one level in.
            for (key, part) in [("body", Some(body)), ("shortcut", shortcut.as_ref())] {
                if let Some(part) = part {
                    out.push_str(&format!(",\n{pad}  \"{key}\": "));
                    write_step(part, level + 1, out);
                }
            }
            out.push('\n');
            out.push_str(&pad);
            out.push('}');
            return;
        }
    }
    out.push_str(" }");
}

/// The JSON reader: counts steps and layers as it goes, so a hostile file
/// stops at the first limit it crosses.
#[derive(Default)]
struct Reader {
    steps: usize,
    layers: usize,
}

/// An error message: `path: why`.
type Why = String;

/// The fields of one JSON object, each taken once; what is left over is an
/// unknown field.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    path: &'a str,
    taken: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, path: &'a str, what: &str) -> Result<Self, Why> {
        match value {
            Value::Object(object) => Ok(Self { object, path, taken: Vec::new() }),
            other => Err(format!("{}: must be {what}, not {}", if path.is_empty() { "the description" } else { path }, kind_of(other))),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.taken.push(key);
        self.object.get(key)
    }

    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn required(&mut self, key: &'static str) -> Result<&'a Value, Why> {
        self.get(key).ok_or_else(|| format!("{}: missing", self.at(key)))
    }

    /// An integer field in `min..=max`, or `default` when left out (`None`: required).
    fn integer(&mut self, key: &'static str, min: usize, max: usize, default: Option<usize>) -> Result<usize, Why> {
        let value = match (self.get(key), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => return Err(format!("{}: missing (an integer from {min} to {max})", self.at(key))),
            (Some(v), _) => v,
        };
        match value.as_u64() {
            Some(n) if (min as u64..=max as u64).contains(&n) => Ok(n as usize),
            _ => Err(format!("{}: must be an integer from {min} to {max} (got {})", self.at(key), shown(value))),
        }
    }

    fn string(&mut self, key: &'static str) -> Result<Option<&'a str>, Why> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("{}: must be a string, not {}", self.at(key), kind_of(other))),
        }
    }

    /// Fails on a field no one took.
    fn finish(self, expected: &str) -> Result<(), Why> {
        match self.object.keys().find(|k| !self.taken.contains(&k.as_str())) {
            Some(k) => Err(format!("{}: unknown field (expected {expected})", self.at(k))),
            None => Ok(()),
        }
    }
}

/// A short rendering of a JSON value for an error.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `name` is dot-separated components of `A-Z a-z 0-9 _`, each 1 to 64 long.
fn valid_step_name(name: &str) -> bool {
    name.split('.').all(|part| (1..=MAX_NAME_LEN).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

fn valid_model_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

const STEP_TYPES: &str = "conv2d, linear, batchNorm, relu, maxPool, avgPool, globalAvgPool, flatten, sequential, concat or residual";

impl Reader {
    fn document(&mut self, value: &Value) -> Result<ModelSpec, Why> {
        let mut f = Fields::new(value, "", "an object")?;
        match f.required("format")? {
            Value::String(s) if s == FORMAT => {}
            other => return Err(format!("format: must be \"{FORMAT}\" (got {})", shown(other))),
        }
        match f.required("version")?.as_u64() {
            Some(VERSION) => {}
            _ => return Err(format!("version: this build reads version {VERSION} only (got {})", shown(&value["version"]))),
        }
        let name = f.string("name")?.ok_or_else(|| "name: missing".to_string())?;
        if !valid_model_name(name) {
            return Err(format!("name: must be 1 to {MAX_NAME_LEN} characters of A-Z a-z 0-9 _ - . (got {})", quoted(name)));
        }
        let input = match f.required("input")? {
            Value::Array(dims) if dims.len() == 3 => {
                let mut input = [0; 3];
                let limits = [("channels", MAX_INPUT_CHANNELS), ("height", MAX_INPUT_SIDE), ("width", MAX_INPUT_SIDE)];
                for (i, ((what, max), dim)) in limits.iter().zip(dims).enumerate() {
                    input[i] = dim
                        .as_u64()
                        .filter(|&d| (1..=*max as u64).contains(&d))
                        .ok_or_else(|| format!("input[{i}]: {what} must be an integer from 1 to {max} (got {})", shown(dim)))?
                        as usize;
                }
                input
            }
            other => return Err(format!("input: must be [channels, height, width] (got {})", shown(other))),
        };
        let layers = self.step(f.required("layers")?, "layers", 1)?;
        f.finish("format, version, name, input, layers")?;
        Ok(ModelSpec { name: name.to_string(), input, layers })
    }

    fn steps(&mut self, items: &[Value], path: &str, depth: usize, min: usize) -> Result<Vec<Step>, Why> {
        if items.len() < min {
            let what = if min == 1 { "at least one step".to_string() } else { format!("at least {min} steps") };
            return Err(format!("{path}: must hold {what}"));
        }
        items.iter().enumerate().map(|(i, item)| self.step(item, &format!("{path}[{i}]"), depth + 1)).collect()
    }

    fn step(&mut self, value: &Value, path: &str, depth: usize) -> Result<Step, Why> {
        if depth > MAX_NESTING {
            return Err(format!("{path}: steps nest more than {MAX_NESTING} deep"));
        }
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(format!("{path}: a model holds at most {MAX_STEPS} steps"));
        }
        if let Value::Array(items) = value {
            return Ok(Step::sequential(self.steps(items, path, depth, 1)?));
        }
        let mut f = Fields::new(value, path, "a step (an object with a \"type\", or an array of steps)")?;
        let name = match f.string("name")? {
            Some(n) if valid_step_name(n) => Some(n.to_string()),
            Some(n) => {
                return Err(format!(
                    "{}: must be dot-separated parts of 1 to {MAX_NAME_LEN} characters of A-Z a-z 0-9 _ (got {})",
                    f.at("name"),
                    quoted(n)
                ))
            }
            None => None,
        };
        let type_name = match f.required("type")? {
            Value::String(t) => t.as_str(),
            other => return Err(format!("{}: must be one of {STEP_TYPES} (got {})", f.at("type"), shown(other))),
        };
        let (kind, fields) = match type_name {
            "conv2d" => {
                let out_channels = f.integer("outChannels", 1, MAX_CHANNELS, None)?;
                let kernel = f.integer("kernel", 1, MAX_KERNEL, None)?;
                let stride = f.integer("stride", 1, MAX_KERNEL, Some(1))?;
                let padding = f.integer("padding", 0, kernel - 1, Some(0))?;
                (StepKind::Conv2d { out_channels, kernel, stride, padding }, "type, name, outChannels, kernel, stride, padding")
            }
            "linear" => (StepKind::Linear { out_features: f.integer("outFeatures", 1, MAX_FEATURES, None)? }, "type, name, outFeatures"),
            "batchNorm" => (StepKind::BatchNorm, "type, name"),
            "relu" => (StepKind::Relu, "type, name"),
            "globalAvgPool" => (StepKind::GlobalAvgPool, "type, name"),
            "flatten" => (StepKind::Flatten, "type, name"),
            "maxPool" => {
                let kernel = f.integer("kernel", 1, MAX_KERNEL, None)?;
                // candle differentiates pools whose windows tile the input only.
                let stride = f.integer("stride", kernel, kernel, Some(kernel)).map_err(|_| {
                    format!("{}: must equal kernel ({kernel}): only non-overlapping max pools are supported", f.at("stride"))
                })?;
                (StepKind::MaxPool { kernel, stride }, "type, name, kernel, stride")
            }
            "avgPool" => {
                let kernel = f.integer("kernel", 1, MAX_KERNEL, None)?;
                let stride = f.integer("stride", 1, MAX_KERNEL, Some(kernel))?;
                let padding = f.integer("padding", 0, kernel / 2, Some(0))?;
                // Padded: our own 3×3 kernel; otherwise candle's, which differentiates tiling windows only.
                let supported = if padding > 0 { (kernel, stride, padding) == (3, 1, 1) } else { stride == kernel };
                if !supported {
                    return Err(format!(
                        "{path}: average pools are supported with stride = kernel and no padding, or as kernel 3, stride 1, padding 1 (got kernel {kernel}, stride {stride}, padding {padding})"
                    ));
                }
                (StepKind::AvgPool { kernel, stride, padding }, "type, name, kernel, stride, padding")
            }
            "sequential" => match f.required("steps")? {
                Value::Array(items) => (StepKind::Sequential(self.steps(items, &f.at("steps"), depth, 1)?), "type, name, steps"),
                other => return Err(format!("{}: must be an array of steps, not {}", f.at("steps"), kind_of(other))),
            },
            "concat" => match f.required("branches")? {
                Value::Array(items) => (StepKind::Concat(self.steps(items, &f.at("branches"), depth, 2)?), "type, name, branches"),
                other => return Err(format!("{}: must be an array of steps, not {}", f.at("branches"), kind_of(other))),
            },
            "residual" => {
                let body = self.step(f.required("body")?, &f.at("body"), depth + 1)?;
                let shortcut = match f.get("shortcut") {
                    Some(s) => Some(Box::new(self.step(s, &f.at("shortcut"), depth + 1)?)),
                    None => None,
                };
                (StepKind::Residual { body: Box::new(body), shortcut }, "type, name, body, shortcut")
            }
            other => return Err(format!("{}: unknown step type {} (known: {STEP_TYPES})", f.at("type"), quoted(other))),
        };
        f.finish(fields)?;
        if matches!(kind, StepKind::Conv2d { .. } | StepKind::Linear { .. } | StepKind::BatchNorm) {
            if name.is_none() {
                return Err(format!("{path}: a {type_name} layer needs a name (its parameters are called <name>.weight, <name>.bias)"));
            }
            self.layers += 1;
            if self.layers > MAX_LAYERS {
                return Err(format!("{path}: a model holds at most {MAX_LAYERS} layers with parameters"));
            }
        }
        Ok(Step { name, kind })
    }
}
