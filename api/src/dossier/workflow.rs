//! Workflow moves of a dossier: the input of a move, who makes it, and applying it in the
//! caller's transaction with its history event and integration events.

use super::*;

/// What a move carries besides its action.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    pub action: Option<DossierAction>,
    /// A remark kept in the history.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Required to reject, stop, withdraw and apologise.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// For `request_supplement`: the documents still needed.
    #[serde(default)]
    pub missing_documents: Vec<String>,
    /// For `apologize`: the new appointment.
    #[schema(value_type = Option<String>, format = Date)]
    pub new_due_date: Option<NaiveDate>,
    /// For `return_result` by post: the postal tracking number.
    #[schema(max_length = 64)]
    pub postal_tracking_number: Option<String>,
}

fn not_allowed(status: DossierStatus, action: DossierAction, actor: Actor) -> ApiError {
    let allowed: Vec<&str> = allowed_actions(status, actor).into_iter().map(|a| a.as_str()).collect();
    let list = if allowed.is_empty() { "không có".to_string() } else { allowed.join(", ") };
    let list_en = if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") };
    let mut e = ApiError::conflict(Msg::new(
        format!("Không thể {action} khi hồ sơ đang ở trạng thái {status}; thao tác hợp lệ: {list}"),
        format!("Cannot {action} a dossier that is {status}; allowed now: {list_en}"),
    ));
    e.code = "transition_not_allowed";
    e
}

fn fee_unpaid(amount: i64) -> ApiError {
    let mut e = ApiError::conflict(Msg::new(
        format!("Hồ sơ còn {amount} đồng phí, lệ phí chưa thanh toán"),
        format!("{amount} VND of fees are still unpaid"),
    ));
    e.code = "fee_unpaid";
    e
}

fn text_required(field: &str, value: &Option<String>) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let v = value.clone().unwrap_or_default();
    dvc_domain::catalogue::check_text(field, &v, 2000, &mut errors);
    match errors.pop() {
        Some(e) => Err(ApiError::field(e)),
        None => Ok(v.trim().to_string()),
    }
}

/// Who makes a move, as recorded in the history.
pub struct Mover<'a> {
    pub actor: Actor,
    pub id: Option<&'a str>,
    /// The role recorded: `citizen`, `officer`, `integration`, ...
    pub role: &'a str,
}

/// How a dossier ended against its due date: `early`, `on_time` or `late`.
pub fn timeliness(due: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match due {
        Some(due) if today < due => "early",
        Some(due) if today == due => "on_time",
        Some(_) => "late",
        None => "on_time",
    }
}

/// A workflow move worked out and not yet written: the dossier as it will be, the version it must
/// still have, its history event, and what the change feed learns of it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub row: DossierRow,
    pub expected: i32,
    pub event: EventRow,
    pub feed: Vec<(&'static str, serde_json::Value)>,
}

/// Applies a workflow move to a dossier in the caller's transaction: checks it against the table,
/// updates status and deadline, and writes the history event. Returns the updated row.
pub fn apply(
    conn: &mut DbConn,
    row: DossierRow,
    action: DossierAction,
    mover: &Mover,
    input: &TransitionInput,
    cal: &Calendar,
    at: crate::clock::Moment,
) -> Result<DossierRow, ApiError> {
    let planned = plan(conn, row, action, mover, input, cal, at)?;
    if !write(conn, std::slice::from_ref(&planned))?.first().copied().unwrap_or(false) {
        return Err(changed_meanwhile());
    }
    Ok(planned.row)
}

/// The answer to a move whose dossier changed after it was read.
pub fn changed_meanwhile() -> ApiError {
    ApiError::conflict(Msg::new(
        "Hồ sơ vừa được cập nhật bởi người khác; hãy thử lại",
        "The dossier changed meanwhile; try again",
    ))
}

/// Works out a move: checks it against the workflow table and what the dossier holds (fees paid,
/// results uploaded), and makes the new state, the history event and the feed's events. Reads
/// only; `write` writes.
pub fn plan(
    conn: &mut DbConn,
    mut row: DossierRow,
    action: DossierAction,
    mover: &Mover,
    input: &TransitionInput,
    cal: &Calendar,
    at: crate::clock::Moment,
) -> Result<Planned, ApiError> {
    let (t, today) = (at.now, at.today);
    let actor = mover.actor;
    let from = status(&row)?;
    let to = next_status(from, action, actor).ok_or_else(|| not_allowed(from, action, actor))?;
    let mut data = serde_json::Map::new();
    if let Some(note) = &input.note {
        let mut errors = Vec::new();
        dvc_domain::catalogue::check_text("note", note, 2000, &mut errors);
        if let Some(e) = errors.pop() {
            return Err(ApiError::field(e));
        }
    }
    match action {
        DossierAction::Reject | DossierAction::Stop | DossierAction::Withdraw => {
            data.insert("reason".into(), text_required("reason", &input.reason)?.into());
            // An agency that ends a dossier it had received answers for the deadline too.
            if actor == Actor::Agency && row.received_at.is_some() && row.timeliness.is_none() {
                row.timeliness = Some(timeliness(row.due_date, today).into());
            }
        }
        DossierAction::RequestSupplement => {
            if input.missing_documents.is_empty() && input.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(ApiError::field(FieldError::new(
                    "missing_documents",
                    "required",
                    "Nêu rõ giấy tờ cần bổ sung (missing_documents hoặc note)",
                    "Say what is missing (missing_documents or note)",
                )));
            }
            data.insert("missing_documents".into(), serde_json::json!(input.missing_documents));
            if let Some(start) = row.clock_started_on.take() {
                row.working_days_spent += cal.working_days_between(start, today) as i32;
            }
        }
        DossierAction::Receive => {
            let fees = fee_state(conn, &snapshot(&row)?, &row.id)?;
            if fees.outstanding_before > 0 {
                return Err(fee_unpaid(fees.outstanding_before));
            }
            let remaining = (row.working_days_allowed - row.working_days_spent).max(0) as u32;
            row.clock_started_on = Some(today);
            row.due_date = Some(cal.add_working_days(today, remaining).0);
            row.received_at = Some(t);
        }
        DossierAction::Apologize => {
            let reason = text_required("reason", &input.reason)?;
            let new_due = input.new_due_date.ok_or_else(|| ApiError::field(FieldError::required("new_due_date")))?;
            if new_due <= today || row.due_date.is_some_and(|due| new_due <= due) {
                return Err(ApiError::field(FieldError::new(
                    "new_due_date",
                    "not_later",
                    "Ngày hẹn mới phải sau ngày hẹn cũ và sau hôm nay",
                    "The new date must be after the old one and after today",
                )));
            }
            data.insert("reason".into(), reason.into());
            data.insert("previous_due_date".into(), serde_json::json!(row.due_date));
            data.insert("new_due_date".into(), serde_json::json!(new_due));
            row.due_date = Some(new_due);
        }
        DossierAction::Complete => {
            if d::attachments(conn, &row.id, "result")?.is_empty() {
                return Err(ApiError::unprocessable(
                    "result_required",
                    Msg::new(
                        "Cần tải lên văn bản kết quả trước khi hoàn thành",
                        "Upload the result documents before completing",
                    ),
                ));
            }
            if let Some(start) = row.clock_started_on.take() {
                row.working_days_spent += cal.working_days_between(start, today) as i32;
            }
            let timeliness = timeliness(row.due_date, today);
            row.timeliness = Some(timeliness.into());
            data.insert("timeliness".into(), timeliness.into());
        }
        DossierAction::ReturnResult => {
            let fees = fee_state(conn, &snapshot(&row)?, &row.id)?;
            if fees.outstanding_after > 0 {
                return Err(fee_unpaid(fees.outstanding_after));
            }
            let delivery: serde_json::Value = serde_json::from_str(&row.delivery).unwrap_or_default();
            let method = delivery.get("method").and_then(|m| m.as_str()).unwrap_or("counter").to_string();
            data.insert("delivery".into(), method.clone().into());
            match input.postal_tracking_number.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(tracking) => {
                    data.insert("postal_tracking_number".into(), tracking.into());
                }
                None if method == "post" => {
                    return Err(ApiError::field(FieldError::new(
                        "postal_tracking_number",
                        "required",
                        "Kết quả gửi qua bưu chính cần số hiệu bưu gửi",
                        "Results sent by post need the postal tracking number",
                    )));
                }
                None => {}
            }
        }
        DossierAction::Submit | DossierAction::Resubmit | DossierAction::StartProcessing => {}
    }
    if to.finished() {
        row.finished_at = Some(t);
        row.clock_started_on = None;
    }
    row.status = to.as_str().into();
    let expected = row.version;
    row.version += 1;
    row.updated_at = t;
    let event = EventRow {
        id: new_id(),
        dossier_id: row.id.clone(),
        at: t,
        action: action.as_str().into(),
        from_status: Some(from.as_str().into()),
        to_status: to.as_str().into(),
        actor_id: mover.id.map(str::to_string),
        actor_role: mover.role.into(),
        note: input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string),
        data: serde_json::Value::Object(data).to_string(),
    };
    let change = serde_json::json!({
        "action": action, "from_status": from, "to_status": to, "national_status_code": to.national_code(),
        "due_date": row.due_date, "actor_role": mover.role,
    });
    let mut feed = Vec::with_capacity(2);
    if action == DossierAction::Submit {
        feed.push(("dossier.submitted", change.clone()));
    }
    feed.push((if from == to { "dossier.updated" } else { "dossier.status_changed" }, change));
    Ok(Planned { row, expected, event, feed })
}

/// Writes planned moves in the caller's transaction, all dossiers in one statement, their history
/// in another, and the change feed with one look at the webhooks; whether each move was written
/// (one whose dossier changed since it was read is not, nor are its events).
pub fn write(conn: &mut DbConn, moves: &[Planned]) -> Result<Vec<bool>, ApiError> {
    let rows: Vec<(&DossierRow, i32)> = moves.iter().map(|m| (&m.row, m.expected)).collect();
    let written = dvc_persistence::dossier_writes::update_moved(conn, &rows)?;
    let done: Vec<&Planned> = moves.iter().zip(&written).filter(|(_, w)| **w).map(|(m, _)| m).collect();
    let events: Vec<EventRow> = done.iter().map(|m| m.event.clone()).collect();
    dvc_persistence::dossier_writes::insert_events(conn, &events)?;
    let subjects: Vec<(crate::integration::Subject, Vec<(&str, serde_json::Value)>)> = done
        .iter()
        .map(|m| {
            let subject = crate::integration::Subject {
                agency_id: &m.row.agency_id,
                dossier_id: Some(&m.row.id),
                dossier_code: m.row.code.as_deref(),
            };
            (subject, m.feed.clone())
        })
        .collect();
    crate::integration::emit_many(conn, subjects)?;
    Ok(written)
}
