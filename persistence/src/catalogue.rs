//! Queries of the catalogue: administrative units, fields, agencies and procedures.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{admin_units, agencies, fields, procedure_agencies, procedures};
use crate::DbConn;

type DB = <DbConn as diesel::Connection>::Backend;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_units)]
pub struct AdminUnitRow {
    pub code: String,
    pub name: String,
    pub unit_type: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub name_folded: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = fields)]
pub struct FieldRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agencies, treat_none_as_null = true)]
pub struct AgencyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_folded: String,
    pub tier: String,
    pub admin_unit_code: Option<String>,
    pub parent_id: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = procedures, treat_none_as_null = true)]
pub struct ProcedureRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_folded: String,
    pub field_id: String,
    pub tier: String,
    pub service_level: i32,
    pub online: String,
    pub audiences: String,
    pub processing_days: i32,
    pub fees: String,
    pub required_documents: String,
    pub forms: String,
    pub steps: String,
    pub legal_basis: String,
    pub result: String,
    pub form_schema: Option<String>,
    pub version: i32,
    pub effective_from: NaiveDate,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `HH:MM`: a dossier received at or after it (local time) counts from the next working day.
    pub receipt_cutoff: Option<String>,
    /// The assurance level the applicant's sign-in must have (1, or 2 for VNeID's level 2).
    pub min_assurance_level: i32,
    /// An interconnected procedure's steps (JSON), none for an ordinary procedure.
    pub bundle: Option<String>,
}

/// The short agency reference shown inside procedures.
#[derive(Debug, Clone, Queryable)]
pub struct AgencyRef {
    pub procedure_id: String,
    pub id: String,
    pub code: String,
    pub name: String,
}

// ---- administrative units ----

/// Units under `parent_code`, or the provinces when it is `None`.
pub fn list_admin_units(conn: &mut DbConn, parent_code: Option<&str>) -> QueryResult<Vec<AdminUnitRow>> {
    let query = admin_units::table.select(AdminUnitRow::as_select()).order(admin_units::code);
    match parent_code {
        Some(p) => query.filter(admin_units::parent_code.eq(p)).load(conn),
        None => query.filter(admin_units::parent_code.is_null()).load(conn),
    }
}

pub fn admin_unit_exists(conn: &mut DbConn, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(admin_units::table.find(code))).get_result(conn)
}

pub fn count_admin_units(conn: &mut DbConn) -> QueryResult<i64> {
    admin_units::table.count().get_result(conn)
}

/// Inserts units that are not there yet, in batches; returns how many were added.
pub fn insert_admin_units(conn: &mut DbConn, rows: &[AdminUnitRow]) -> QueryResult<usize> {
    let existing: std::collections::HashSet<String> =
        admin_units::table.select(admin_units::code).load::<String>(conn)?.into_iter().collect();
    let new: Vec<&AdminUnitRow> = rows.iter().filter(|r| !existing.contains(&r.code)).collect();
    let mut added = 0;
    for chunk in new.chunks(500) {
        let chunk: Vec<AdminUnitRow> = chunk.iter().map(|r| (*r).clone()).collect();
        added += match conn {
            DbConn::Postgres(c) => diesel::insert_into(admin_units::table).values(&chunk).execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(admin_units::table).values(&chunk).execute(c)?,
        };
    }
    Ok(added)
}

// ---- fields ----

pub fn list_fields(conn: &mut DbConn) -> QueryResult<Vec<FieldRow>> {
    fields::table.select(FieldRow::as_select()).order(fields::name).load(conn)
}

pub fn find_field(conn: &mut DbConn, id: &str) -> QueryResult<Option<FieldRow>> {
    fields::table.find(id).select(FieldRow::as_select()).first(conn).optional()
}

pub fn find_field_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<FieldRow>> {
    fields::table.filter(fields::code.eq(code)).select(FieldRow::as_select()).first(conn).optional()
}

pub fn insert_field(conn: &mut DbConn, row: &FieldRow) -> QueryResult<FieldRow> {
    diesel::insert_into(fields::table).values(row).execute(conn)?;
    Ok(row.clone())
}

pub fn update_field(conn: &mut DbConn, row: &FieldRow) -> QueryResult<usize> {
    diesel::update(fields::table.find(&row.id)).set(row).execute(conn)
}

pub fn delete_field(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(fields::table.find(id)).execute(conn)
}

// ---- agencies ----

/// Filters of the agency list.
#[derive(Debug, Default, Clone)]
pub struct AgencyFilter {
    pub tier: Option<String>,
    pub admin_unit_code: Option<String>,
    pub tokens: Vec<String>,
}

fn agency_query<'a>(filter: &'a AgencyFilter) -> agencies::BoxedQuery<'a, DB> {
    let mut query = agencies::table.into_boxed();
    if let Some(tier) = &filter.tier {
        query = query.filter(agencies::tier.eq(tier));
    }
    if let Some(code) = &filter.admin_unit_code {
        query = query.filter(agencies::admin_unit_code.eq(code));
    }
    for token in &filter.tokens {
        query = query
            .filter(agencies::name_folded.like(format!("%{token}%")).or(agencies::code.like(format!("%{token}%"))));
    }
    query
}

pub fn list_agencies(
    conn: &mut DbConn,
    filter: &AgencyFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<AgencyRow>, i64)> {
    let total = agency_query(filter).count().get_result(conn)?;
    let rows = agency_query(filter)
        .select(AgencyRow::as_select())
        .order((agencies::tier, agencies::name))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

/// The agency whose id or official code (`H26.00070`) is `key`.
pub fn find_agency(conn: &mut DbConn, key: &str) -> QueryResult<Option<AgencyRow>> {
    agencies::table
        .filter(agencies::id.eq(key).or(agencies::code.eq(key)))
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()
}

/// For each key, the id of the agency whose id or official code it is (none for an unknown key).
pub fn agency_ids_of(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<Option<String>>> {
    let known: Vec<(String, String)> = agencies::table
        .filter(agencies::id.eq_any(keys).or(agencies::code.eq_any(keys)))
        .select((agencies::id, agencies::code))
        .load(conn)?;
    Ok(keys.iter().map(|k| known.iter().find(|(id, code)| id == k || code == k).map(|(id, _)| id.clone())).collect())
}

pub fn find_agency_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<AgencyRow>> {
    agencies::table.filter(agencies::code.eq(code)).select(AgencyRow::as_select()).first(conn).optional()
}

pub fn insert_agency(conn: &mut DbConn, row: &AgencyRow) -> QueryResult<()> {
    diesel::insert_into(agencies::table).values(row).execute(conn).map(|_| ())
}

pub fn update_agency(conn: &mut DbConn, row: &AgencyRow) -> QueryResult<usize> {
    diesel::update(agencies::table.find(&row.id)).set(row).execute(conn)
}

pub fn delete_agency(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(agencies::table.find(id)).execute(conn)
}

// ---- procedures ----

/// What lists and the search index show of a procedure (not its documents, steps or form).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = procedures)]
pub struct ProcedureBrief {
    pub id: String,
    pub code: String,
    pub name: String,
    pub field_id: String,
    pub tier: String,
    pub service_level: i32,
    pub online: String,
    pub audiences: String,
    pub processing_days: i32,
    pub result: String,
}

impl ProcedureRow {
    pub fn brief(&self) -> ProcedureBrief {
        ProcedureBrief {
            id: self.id.clone(),
            code: self.code.clone(),
            name: self.name.clone(),
            field_id: self.field_id.clone(),
            tier: self.tier.clone(),
            service_level: self.service_level,
            online: self.online.clone(),
            audiences: self.audiences.clone(),
            processing_days: self.processing_days,
            result: self.result.clone(),
        }
    }
}

/// Every procedure as lists show it, by code (for the search index).
pub fn all_procedure_briefs(conn: &mut DbConn) -> QueryResult<Vec<ProcedureBrief>> {
    procedures::table.select(ProcedureBrief::as_select()).order(procedures::code).load(conn)
}

/// Every procedure's agencies (for the search index).
pub fn all_procedure_agencies(conn: &mut DbConn) -> QueryResult<Vec<AgencyRef>> {
    procedure_agencies::table
        .inner_join(agencies::table)
        .select((procedure_agencies::procedure_id, agencies::id, agencies::code, agencies::name))
        .order((procedure_agencies::procedure_id, agencies::name))
        .load(conn)
}

/// Finds a procedure by its id or by its code.
pub fn find_procedure(conn: &mut DbConn, id_or_code: &str) -> QueryResult<Option<ProcedureRow>> {
    procedures::table
        .filter(procedures::id.eq(id_or_code).or(procedures::code.eq(id_or_code)))
        .select(ProcedureRow::as_select())
        .first(conn)
        .optional()
}

/// The agencies of each of the given procedures.
pub fn agencies_of_procedures(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<AgencyRef>> {
    procedure_agencies::table
        .inner_join(agencies::table)
        .filter(procedure_agencies::procedure_id.eq_any(ids))
        .select((procedure_agencies::procedure_id, agencies::id, agencies::code, agencies::name))
        .order((procedure_agencies::procedure_id, agencies::name))
        .load(conn)
}

/// The agency, by id or official code, if it handles the procedure.
pub fn agency_of_procedure(conn: &mut DbConn, procedure_id: &str, agency: &str) -> QueryResult<Option<AgencyRef>> {
    procedure_agencies::table
        .inner_join(agencies::table)
        .filter(procedure_agencies::procedure_id.eq(procedure_id))
        .filter(agencies::id.eq(agency).or(agencies::code.eq(agency)))
        .select((procedure_agencies::procedure_id, agencies::id, agencies::code, agencies::name))
        .first(conn)
        .optional()
}

/// Fields by id, for rendering lists.
pub fn fields_by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<FieldRow>> {
    fields::table.filter(fields::id.eq_any(ids)).select(FieldRow::as_select()).load(conn)
}

/// Inserts a procedure and its agency links.
pub fn insert_procedure(conn: &mut DbConn, row: &ProcedureRow, agency_ids: &[String]) -> QueryResult<()> {
    crate::db::write_transaction(conn, |conn| {
        diesel::insert_into(procedures::table).values(row).execute(conn)?;
        link_agencies(conn, &row.id, agency_ids)
    })
}

/// Replaces a procedure's content and agency links.
pub fn update_procedure(conn: &mut DbConn, row: &ProcedureRow, agency_ids: &[String]) -> QueryResult<usize> {
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(procedures::table.find(&row.id)).set(row).execute(conn)?;
        diesel::delete(procedure_agencies::table.filter(procedure_agencies::procedure_id.eq(&row.id))).execute(conn)?;
        link_agencies(conn, &row.id, agency_ids)?;
        Ok(n)
    })
}

fn link_agencies(conn: &mut DbConn, procedure_id: &str, agency_ids: &[String]) -> QueryResult<()> {
    for agency_id in agency_ids {
        diesel::insert_into(procedure_agencies::table)
            .values((procedure_agencies::procedure_id.eq(procedure_id), procedure_agencies::agency_id.eq(agency_id)))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes a procedure without steps an interconnected one (the demo catalogue's bundles, on a
/// database seeded before procedures had steps); whether it changed.
pub fn add_bundle(conn: &mut DbConn, id: &str, bundle: &str) -> QueryResult<bool> {
    let n = diesel::update(procedures::table.find(id).filter(procedures::bundle.is_null()))
        .set((procedures::bundle.eq(bundle), procedures::version.eq(procedures::version + 1)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn delete_procedure(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(procedures::table.find(id)).execute(conn)
}

pub fn count_procedures(conn: &mut DbConn) -> QueryResult<i64> {
    procedures::table.count().get_result(conn)
}

/// Whether any procedure refers to the field (to refuse deleting it).
pub fn field_in_use(conn: &mut DbConn, field_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(procedures::table.filter(procedures::field_id.eq(field_id)))).get_result(conn)
}

/// The catalogue's change counter: triggers move it with every change to procedures, their
/// agencies, agencies and fields.
pub fn version(conn: &mut DbConn) -> QueryResult<i64> {
    crate::schema::catalogue_version::table.find(1).select(crate::schema::catalogue_version::version).first(conn)
}

/// Every agency, for bulk loads.
pub fn all_agencies(conn: &mut DbConn) -> QueryResult<Vec<AgencyRow>> {
    agencies::table.select(AgencyRow::as_select()).order(agencies::code).load(conn)
}

/// Inserts procedures and their agency links in multi-row statements (bulk loads).
pub fn insert_procedures_batch(
    conn: &mut DbConn,
    rows: &[ProcedureRow],
    links: &[(String, String)],
) -> QueryResult<()> {
    let links: Vec<_> = links
        .iter()
        .map(|(p, a)| (procedure_agencies::procedure_id.eq(p.as_str()), procedure_agencies::agency_id.eq(a.as_str())))
        .collect();
    match conn {
        DbConn::Postgres(c) => {
            diesel::insert_into(procedures::table).values(rows).execute(c)?;
            diesel::insert_into(procedure_agencies::table).values(&links).execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::insert_into(procedures::table).values(rows).execute(c)?;
            diesel::insert_into(procedure_agencies::table).values(&links).execute(c)?;
        }
    }
    Ok(())
}
