//! Interconnected procedures in the catalogue: their steps.

use serde::{Deserialize, Serialize};

use super::{check_procedure_code, Tier};
use crate::FieldError;

/// An interconnected procedure (thủ tục liên thông, Decree 63/2024/NĐ-CP): one application that
/// several agencies settle in turn, each step an ordinary procedure of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// In order: step 1 first. A step starts when the steps it needs are completed.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 10))]
    pub steps: Vec<BundleStep>,
}

/// One step of an interconnected procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundleStep {
    /// The code of the procedure the step follows, e.g. `1.001193`.
    #[cfg_attr(feature = "openapi", schema(example = "1.001193"))]
    pub procedure_code: String,
    /// The tier of the agency that settles it: among the agencies of the step's procedure, the
    /// one of the receiving agency's commune (commune tier) or province (province tier).
    pub tier: Tier,
    /// Working days the step is given (its budget within the whole).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 365))]
    pub days: i32,
    /// The steps (numbered from 1) whose results it needs; each an earlier step.
    #[serde(default)]
    pub needs: Vec<u32>,
}

impl Bundle {
    /// What is wrong with the steps as a whole (references to later or missing steps, budgets).
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !(2..=10).contains(&self.steps.len()) {
            errors.push(FieldError::new("bundle.steps", "invalid_length", "Từ 2 đến 10 bước", "2 to 10 steps"));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let field = format!("bundle.steps[{i}]");
            if let Err(mut e) = check_procedure_code(&step.procedure_code) {
                e.field = format!("{field}.procedure_code");
                errors.push(e);
            }
            if !(0..=365).contains(&step.days) {
                errors.push(FieldError::int_range(&format!("{field}.days"), 0, 365));
            }
            if step.needs.iter().any(|&n| n == 0 || n as usize > i) {
                errors.push(FieldError::new(
                    format!("{field}.needs"),
                    "not_earlier",
                    "Chỉ cần kết quả của các bước trước",
                    "A step needs only earlier steps",
                ));
            }
        }
        errors
    }
}
