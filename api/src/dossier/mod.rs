//! The dossier service, shared by applicants', officers' and one-stop systems' endpoints: who may
//! see a dossier, its views, and every move, each the same way — load the facts, `decide`, save,
//! show. Requests of one kind that reach the database together are served in batches.

use std::sync::Arc;

use dvc_domain::auth::Role;
use dvc_domain::dossier::{Actor, Delivery, Dossier};
use dvc_domain::workflow::{DossierAction, Side};
use dvc_domain::FieldError;
use dvc_persistence::dossiers::{self as d, EventRow, TrackingRow};
use dvc_persistence::DbConn;

use crate::auth::Caller;
use crate::batch::{Batcher, Target};
use crate::cache::CatalogueCache;
use crate::clock::Moment;
use crate::db::Db;
use crate::error::{ApiError, Msg};
use crate::page::{check_if_match, etag};
use crate::sessions;

mod bundles;
pub mod intake;
pub mod lists;
mod moves;
mod procedure;
mod register;
pub mod tracking;
mod view;

pub use moves::{agency_facts, apply, changed_meanwhile, write, TransitionInput};
pub use procedure::{procedure_snapshot, procedure_snapshot_at};
pub use register::save_registration;
pub use view::{
    attachment_view, bare_view, check_form, deadline, fee_state, fees_against, view, views_of, AttachmentView,
    Deadline, DossierView, Ref,
};

/// How the caller relates to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Owner,
    Agency,
    Admin,
}

/// Who may see a dossier: its applicant, staff of the handling agency, administrators. Anyone else
/// is told it does not exist.
pub fn access(caller: &Caller, d: &Dossier) -> Result<Access, ApiError> {
    if d.applicant_id.as_ref().is_some_and(|a| a.0 == caller.id) {
        Ok(Access::Owner)
    } else if caller.role == Role::Admin {
        Ok(Access::Admin)
    } else if caller.role == Role::Officer && caller.agency_id.as_deref() == Some(d.agency_id.as_str()) {
        Ok(Access::Agency)
    } else {
        Err(not_found())
    }
}

pub fn not_found() -> ApiError {
    ApiError::not_found("hồ sơ", "Dossier")
}

/// Loads a dossier the caller may see.
pub fn load(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<(Dossier, Access), ApiError> {
    let dossier = d::find(conn, id)?.ok_or_else(not_found)?;
    let access = access(caller, &dossier)?;
    Ok((dossier, access))
}

/// Refused unless the caller owns the dossier and it is still editable (a draft, or awaiting a
/// supplement).
pub fn owner_editable(d: &Dossier, access: Access) -> Result<(), ApiError> {
    if access != Access::Owner {
        return Err(ApiError::forbidden());
    }
    if !d.status.editable() {
        let mut e = ApiError::conflict(Msg::new(
            "Chỉ sửa được hồ sơ nháp hoặc hồ sơ đang được yêu cầu bổ sung",
            "Only drafts and dossiers awaiting a supplement can be changed",
        ));
        e.code = "not_editable";
        return Err(e);
    }
    Ok(())
}

/// Records a change of an editable dossier's documents as a new version of the dossier, so that a
/// submission checked against the previous documents fails its version check instead of passing
/// with them; refused (409) once the dossier is no longer editable.
pub fn touch_editable(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> Result<(), ApiError> {
    if !d::touch_editable(conn, id, at)? {
        let mut e = ApiError::conflict(Msg::new(
            "Hồ sơ vừa được nộp hoặc thay đổi; hãy tải lại",
            "The dossier was submitted or changed meanwhile; reload it",
        ));
        e.code = "not_editable";
        return Err(e);
    }
    Ok(())
}

/// The dossier service of one server process.
pub struct Dossiers {
    db: Db,
    cache: Arc<CatalogueCache>,
    /// Public tracking by code (`GET /dossiers/lookup`), on a fresh replica when there is one.
    tracking: Arc<Batcher<String, Vec<TrackingRow>>>,
    /// Pages of an applicant's dossiers and of agencies' inboxes, as JSON.
    lists: Arc<Batcher<lists::ListRequest, lists::ListPage>>,
    /// New drafts (`POST /dossiers`).
    drafts: Arc<Batcher<intake::NewDraft, intake::Answer>>,
    /// Submissions and resubmissions (`POST /dossiers/{id}/submit`).
    submissions: Arc<Batcher<intake::Submission, intake::Answer>>,
}

impl Dossiers {
    /// Batches of reads run on `lanes` lanes, batches of writes on `writers` (SQLite takes one
    /// writer at a time: a second writing batch would only wait for the lock, sleeping).
    pub fn new(db: Db, cache: Arc<CatalogueCache>, lanes: usize, writers: usize, list_cache_bytes: u64) -> Self {
        let pages = Arc::new(lists::PageCache::new(list_cache_bytes));
        let (for_drafts, for_submissions) = (cache.clone(), cache.clone());
        Self {
            tracking: Batcher::new("tracking", lanes, 64, Target::Replica, Arc::new(tracking::track)),
            // The applicant's and officers' own views read the primary.
            // Each batch of pages, drafts or submissions checks its requests' sessions as its
            // first statement, in the same round on the same connection, instead of a round of
            // its own before it.
            // Sixteen pages a batch at most: batches of 32 rendered pages slower and made deep
            // pages wait longer (docs/performance.md, the twenty-first machine).
            lists: Batcher::gated(
                "lists",
                lanes,
                16,
                lists::work(cache.clone(), pages),
                sessions::gate(|r: &lists::ListRequest| &r.session),
            ),
            drafts: Batcher::gated(
                "drafts",
                writers,
                64,
                Arc::new(move |conn: &mut DbConn, drafts: &[intake::NewDraft]| {
                    intake::create_drafts(conn, &for_drafts, drafts)
                }),
                sessions::gate(|d: &intake::NewDraft| &d.session),
            ),
            submissions: Batcher::gated(
                "submissions",
                writers,
                64,
                Arc::new(move |conn: &mut DbConn, submissions: &[intake::Submission]| {
                    intake::submit_all(conn, &for_submissions, submissions)
                }),
                sessions::gate(|s: &intake::Submission| &s.session),
            ),
            db,
            cache,
        }
    }

    /// A new draft, with its ETag.
    pub async fn create_draft(&self, draft: intake::NewDraft) -> Result<intake::Answer, ApiError> {
        self.drafts.run(&self.db, draft).await
    }

    /// Submits or resubmits a dossier; the dossier after, with its ETag.
    pub async fn submit(&self, submission: intake::Submission) -> Result<intake::Answer, ApiError> {
        self.submissions.run(&self.db, submission).await
    }

    /// A page of an applicant's dossiers or of an inbox, as JSON, with its ETag.
    pub async fn page(&self, request: lists::ListRequest) -> Result<lists::ListPage, ApiError> {
        self.lists.run(&self.db, request).await
    }

    /// What anyone with the code may see of a dossier; none when no dossier has it.
    pub async fn lookup(
        &self,
        code: String,
        today: chrono::NaiveDate,
    ) -> Result<Option<tracking::PublicDossier>, ApiError> {
        let mut view = tracking::public_view(self.tracking.run(&self.db, code).await?, today)?;
        if let Some(v) = view.as_mut().filter(|v| v.is_bundle) {
            let code = v.code.clone();
            v.steps = Some(self.db.run(move |conn| tracking::bundle_steps(conn, &code)).await?);
        }
        Ok(view)
    }

    /// A dossier the caller may see, with its ETag.
    pub async fn get(
        &self,
        caller: Caller,
        id: String,
        today: chrono::NaiveDate,
    ) -> Result<(String, DossierView), ApiError> {
        let cache = self.cache.clone();
        self.db
            .run(move |conn| {
                let (dossier, access) = load(conn, &caller, &id)?;
                let tag = etag(dossier.id.as_str(), dossier.version);
                let cal = cache.calendar(conn)?;
                Ok((tag, view(conn, dossier, access, &cal, today)?))
            })
            .await
    }

    /// The history of a dossier the caller may see, oldest first.
    pub async fn history(&self, caller: Caller, id: String) -> Result<Vec<EventRow>, ApiError> {
        self.db
            .run(move |conn| {
                load(conn, &caller, &id)?;
                Ok(d::events(conn, &id)?)
            })
            .await
    }

    /// The applicant changes the form or the delivery of an editable dossier.
    pub async fn patch(
        &self,
        caller: Caller,
        id: String,
        precondition: Option<String>,
        form: Option<serde_json::Value>,
        delivery: Option<Delivery>,
        at: Moment,
    ) -> Result<(String, DossierView), ApiError> {
        let cache = self.cache.clone();
        self.db
            .tx(move |conn| {
                let (mut dossier, access) = load(conn, &caller, &id)?;
                owner_editable(&dossier, access)?;
                check_if_match(precondition.as_deref(), dossier.id.as_str(), dossier.version)?;
                if let Some(form) = &form {
                    check_form(dossier.procedure.form_schema.as_deref(), form)?;
                    dossier.form_data = serde_json::value::to_raw_value(form).map_err(|_| ApiError::internal())?;
                }
                if let Some(delivery) = delivery {
                    dossier.delivery = delivery;
                }
                let expected = dossier.version;
                dossier.version += 1;
                dossier.updated_at = at.now;
                if !d::save(conn, &dossier, expected)? {
                    return Err(ApiError::conflict(Msg::new(
                        "Hồ sơ vừa thay đổi; hãy thử lại",
                        "The dossier changed meanwhile; try again",
                    )));
                }
                let tag = etag(dossier.id.as_str(), dossier.version);
                let cal = cache.calendar(conn)?;
                Ok((tag, view(conn, dossier, Access::Owner, &cal, at.today)?))
            })
            .await
    }

    /// A move by a person on one side: the applicant (the dossier's owner), or the agency (an
    /// officer of the handling agency, or an administrator).
    pub async fn make_move(
        &self,
        caller: Caller,
        id: String,
        side: Side,
        action: DossierAction,
        input: TransitionInput,
        at: Moment,
    ) -> Result<(String, DossierView), ApiError> {
        let cache = self.cache.clone();
        self.db
            .tx(move |conn| {
                let (dossier, access) = load(conn, &caller, &id)?;
                if (side == Side::Applicant) != (access == Access::Owner) {
                    return Err(ApiError::forbidden());
                }
                let actor = Actor { side, id: Some(caller.id.clone()), role: caller.role };
                let cal = cache.calendar(conn)?;
                let command = input.command(action);
                let dossier = apply(conn, dossier, &command, input.note.as_deref(), &actor, &cal, at)?;
                let tag = etag(dossier.id.as_str(), dossier.version);
                Ok((tag, view(conn, dossier, access, &cal, at.today)?))
            })
            .await
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn cache(&self) -> &Arc<CatalogueCache> {
        &self.cache
    }
}

/// The action a move names; a move without one is refused as incomplete.
pub fn action_of(input: &TransitionInput) -> Result<DossierAction, ApiError> {
    input.action.ok_or_else(|| ApiError::field(FieldError::required("action")))
}
