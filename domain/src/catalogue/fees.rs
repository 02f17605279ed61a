//! What a procedure charges: fees and charges, when and through which channel they are paid,
//! and their tiers.

use serde::{Deserialize, Serialize};

code_enum! {
    /// Phí (fee, for a service) or lệ phí (charge, a state levy).
    FeeKind { Fee = "fee", Charge = "charge" }
}

code_enum! {
    /// When a fee is paid: before processing, after (before the result is returned), or not at all.
    FeeMode { Before = "before", After = "after", Exempt = "exempt", Free = "free" }
}

code_enum! {
    /// Which submissions a fee applies to: any, online only, or in person only (at a counter or
    /// by post). The national catalogue often lists a lower amount for online submission.
    FeeChannel { Any = "any", Online = "online", InPerson = "in_person" }
}

code_enum! {
    /// What a fee's amount is for: the dossier, each copy, or each page.
    FeeUnit { Dossier = "dossier", Copy = "copy", Page = "page" }
}

// The enums come from `code_enum!`, which cannot mark a default variant.
#[allow(clippy::derivable_impls)]
impl Default for FeeChannel {
    fn default() -> Self {
        FeeChannel::Any
    }
}

#[allow(clippy::derivable_impls)]
impl Default for FeeUnit {
    fn default() -> Self {
        FeeUnit::Dossier
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// One fee or charge of a procedure; amounts are whole đồng.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeItem {
    pub kind: FeeKind,
    pub name: String,
    /// The amount for one unit (the dossier, a copy or a page).
    pub amount_vnd: i64,
    pub mode: FeeMode,
    /// Which submissions it applies to (`any` when absent).
    #[serde(default, skip_serializing_if = "is_default")]
    pub channel: FeeChannel,
    /// What the amount is for (`dossier` when absent).
    #[serde(default, skip_serializing_if = "is_default")]
    pub unit: FeeUnit,
    /// For copies and pages: the field of the online form holding how many (1 when the form
    /// leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "copies"))]
    pub quantity_field: Option<String>,
    /// For pages: the field holding how many copies (each copy counts its pages again; 1 when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "copies"))]
    pub copies_field: Option<String>,
    /// A lower amount from some unit on (from the third page: 1,000 đồng a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<FeeTier>,
    /// The most the item costs however many pages (for each copy) or copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_vnd: Option<i64>,
    /// Where the amount comes from (the act that sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Set once a dossier's fees are assessed (at submission): how many units it counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Set once assessed: what this dossier owes for the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed_vnd: Option<i64>,
}

/// The amount from a unit on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeeTier {
    /// The first unit (page or copy) it applies to, from 2.
    #[cfg_attr(feature = "openapi", schema(minimum = 2, example = 3))]
    pub from_unit: i64,
    #[cfg_attr(feature = "openapi", schema(example = 1000))]
    pub amount_vnd: i64,
}

impl FeeItem {
    /// A fee per dossier, for any channel.
    pub fn flat(kind: FeeKind, name: impl Into<String>, amount_vnd: i64, mode: FeeMode) -> Self {
        FeeItem {
            kind,
            name: name.into(),
            amount_vnd,
            mode,
            channel: FeeChannel::Any,
            unit: FeeUnit::Dossier,
            quantity_field: None,
            copies_field: None,
            tier: None,
            cap_vnd: None,
            source: None,
            quantity: None,
            owed_vnd: None,
        }
    }

    /// What it costs: as assessed for a dossier, or else its amount.
    pub fn owed(&self) -> i64 {
        self.owed_vnd.unwrap_or(self.amount_vnd)
    }
}
