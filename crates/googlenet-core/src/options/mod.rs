//! Every option of every command, declared once: its name, kind, range or
//! choices, default, what it applies to, and one line of doc
//! ([`OPTIONS`]). Checking a value, the wording of a refusal, the defaults
//! a recipe resolves to, and everything outside the core (the binding's
//! schema export, the TypeScript types and CLI flags generated from it, the
//! manual's option table) come from that one table.

mod schema;
mod table;
mod value;

pub use schema::{AppliesTo, Bound, Command, DefaultValue, Kind, OptionSpec};
pub use table::{
    check_value, declared_default, spec, specs_of, EVAL_BATCH_SIZE, MAX_BATCH_SIZE, MAX_IMAGE_SIDE, OPTIMIZER_NAMES, OPTIONS,
    SCHEDULE_NAMES,
};
pub use value::{check_given, Given, OptionError, Value};
