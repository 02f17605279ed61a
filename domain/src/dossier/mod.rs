//! A dossier (hồ sơ) as a typed value, and every rule about it in one place: which moves are
//! legal for whom, what each move needs (fees paid, results issued, documents attached), and what
//! it changes (status, deadline clock, history, change feed). `decide` is one pure function: the
//! API loads the facts, calls it, and stores what it decided.

use chrono::{NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Role;
use crate::catalogue::{code_enum, Bundle, FeeItem, RequiredDocument};
use crate::payment::totals;
use crate::workflow::{DossierStatus, Side};

pub mod bundle;
mod clock;
mod decide;
mod register;
#[cfg(test)]
pub(crate) mod tests;

pub use bundle::StepOf;
pub use clock::{DeadlineClock, Timeliness};
pub use decide::{decide, ready_to_submit, Command, Decision, Event, Facts, FeedKind, Refusal, Step};
pub use register::{register, Registration};

/// Declares a string identifier that cannot be mixed up with another kind of identifier.
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

id_type!(
    /// A dossier's id (a UUID).
    DossierId
);
id_type!(
    /// An account's id: an applicant, an officer or an administrator.
    AccountId
);
id_type!(
    /// An agency's id.
    AgencyId
);
id_type!(
    /// A procedure's id.
    ProcedureId
);

code_enum! {
    /// How a dossier reached the agency: online, at the counter, or by public post (the national
    /// channel codes 2, 1 and 3).
    Channel { Online = "online", Counter = "counter", Post = "post" }
}

impl Channel {
    /// The channel code of the national portal.
    pub fn national_code(self) -> i32 {
        match self {
            Channel::Counter => 1,
            Channel::Online => 2,
            Channel::Post => 3,
        }
    }
}

code_enum! {
    /// How the result reaches the applicant: at the agency, by public post, or online.
    DeliveryMethod { Counter = "counter", Post = "post", Online = "online" }
}

/// How the result reaches the applicant, with the postal address when it goes by post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub method: DeliveryMethod,
    #[serde(default)]
    pub address: Option<String>,
}

/// What a dossier keeps of its procedure as it was when the dossier took it: parsed once, when
/// the dossier is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcedureSnapshot {
    pub code: String,
    pub name: String,
    pub processing_days: i32,
    pub fees: Vec<FeeItem>,
    pub required_documents: Vec<RequiredDocument>,
    /// Kept as written: parsed only when a form is checked against it.
    pub form_schema: Option<Box<RawValue>>,
    pub agency_code: String,
    pub agency_name: String,
    /// A dossier received at or after this local time (or on a day off) counts from the next
    /// working day (the "15:00 rule" some procedures state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_cutoff: Option<NaiveTime>,
    /// For an interconnected procedure: its steps, and (from submission) the agency that settles
    /// each, in step order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Bundle>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundle_agencies: Vec<AgencyId>,
    /// For a step of an interconnected procedure: its parent and place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_of: Option<StepOf>,
}

impl ProcedureSnapshot {
    /// The fees owed in all, before and after processing.
    pub fn fees_owed(&self) -> i64 {
        let t = totals(&self.fees);
        t.before + t.after
    }

    /// The mandatory documents that none of `attached` (document slots) fills.
    pub fn missing_documents<'a>(&self, attached: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
        self.required_documents
            .iter()
            .filter(|doc| doc.mandatory && !attached.clone().any(|a| a == doc.id))
            .map(|doc| doc.id.clone())
            .collect()
    }
}

/// A dossier: its identity, the procedure version it follows, the applicant's content, where it
/// stands in the workflow, and its deadline clock.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub id: DossierId,
    /// Assigned on submission: `<agency code>-<yyMMdd>-<NNNN>`.
    pub code: Option<String>,
    pub procedure_id: ProcedureId,
    pub procedure_version: i32,
    pub procedure: ProcedureSnapshot,
    pub agency_id: AgencyId,
    /// None for dossiers registered by a one-stop system for a person without an account.
    pub applicant_id: Option<AccountId>,
    /// The applicant block (JSON), prefilled from the profile.
    pub applicant: Box<RawValue>,
    pub status: DossierStatus,
    pub channel: Channel,
    pub form_data: Box<RawValue>,
    pub delivery: Delivery,
    pub submitted_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    pub clock: DeadlineClock,
    pub finished_at: Option<NaiveDateTime>,
    /// How the agency's handling ended against the due date, once it ended.
    pub timeliness: Option<Timeliness>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Fees owed in total (before and after processing), fixed at submission.
    pub fee_vnd: i64,
}

impl Dossier {
    /// Its fees as it owes them: assessed at submission (for its channel and what its form
    /// declares) and kept with it; for a draft, as they would be assessed now.
    pub fn fee_items(&self) -> Vec<FeeItem> {
        if self.status == DossierStatus::Draft {
            crate::payment::assess(&self.procedure.fees, self.channel, &self.form_value())
        } else {
            self.procedure.fees.clone()
        }
    }

    /// The form's content as JSON (null when it does not read).
    pub fn form_value(&self) -> serde_json::Value {
        serde_json::from_str(self.form_data.get()).unwrap_or(serde_json::Value::Null)
    }
}

/// What a dossier owes, has paid, and still owes, per phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeState {
    pub due_before: i64,
    pub due_after: i64,
    pub paid_before: i64,
    pub paid_after: i64,
    pub outstanding_before: i64,
    pub outstanding_after: i64,
}

impl FeeState {
    /// What fees owe against the sums paid before and after processing.
    pub fn of(fees: &[FeeItem], paid_before: i64, paid_after: i64) -> Self {
        let t = totals(fees);
        FeeState {
            due_before: t.before,
            due_after: t.after,
            paid_before,
            paid_after,
            outstanding_before: (t.before - paid_before).max(0),
            outstanding_after: (t.after - paid_after).max(0),
        }
    }
}

/// The national status code of a dossier: 6 (financial obligation) while fees block its next step
/// (fees due before processing when it waits to be received, fees due after when its result waits
/// to be returned), else its status's own code.
pub fn national_code(status: DossierStatus, fees: &FeeState) -> Option<i32> {
    match status {
        DossierStatus::Submitted if fees.outstanding_before > 0 => Some(6),
        DossierStatus::Completed if fees.outstanding_after > 0 => Some(6),
        _ => status.national_code(),
    }
}

/// Who makes a move: which side, the account or client acting, and the role recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub side: Side,
    pub id: Option<String>,
    pub role: Role,
}

impl Actor {
    pub fn applicant(id: &str, role: Role) -> Self {
        Actor { side: Side::Applicant, id: Some(id.to_string()), role }
    }

    pub fn agency(id: &str, role: Role) -> Self {
        Actor { side: Side::Agency, id: Some(id.to_string()), role }
    }
}
