//! The words a person reads for a setting's value. Every enum a setting chooses from
//! (learning rule, inference, energy, activation, ...) implements [`Labelled`] next to its
//! definition; the configuration schema (`config.rs`) hands the labels to the page.
//! A module of its own, below every other, so that the modules defining those enums need
//! not depend on the configuration that uses them.

use serde::Serialize;

/// A value a setting chooses from, with the words the page shows for it. The serde name
/// stays the stable one (URLs, the CLI, saved models); the label is only shown.
pub trait Labelled: Serialize {
    /// What a control shows for this value: short, and readable by a student.
    fn label(&self) -> &'static str;
    /// What a legend shows, where the label is too long for one (default: the label).
    fn short(&self) -> &'static str {
        self.label()
    }
}
