//! Reading the rows of hand-written SQL (`QueryableByName`) by position where the columns come in
//! the order the reader expects, as `SELECT *` of a table gives them, and by name otherwise.
//!
//! Diesel finds a column by name by comparing it with every column before it, for each field of
//! each row: for a row of a wide table that is hundreds of comparisons. Here each field first
//! looks at the column where the table's order puts it, and only on a mismatch searches by name.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::row::{Field, NamedRow, Row, RowIndex};

/// Where the table's columns begin in `row`: at its column `first` (the table's first column),
/// which is 0 for `SELECT *` and later when other columns come before the table's.
pub fn start<'a, DB: Backend>(row: &impl NamedRow<'a, DB>, first: &str) -> usize {
    RowIndex::<&str>::idx(row, first).unwrap_or(0)
}

/// The value of column `name`, looked for first at position `at`.
pub fn column<'a, DB, ST, T>(row: &impl NamedRow<'a, DB>, at: usize, name: &str) -> deserialize::Result<T>
where
    DB: Backend,
    T: FromSql<ST, DB>,
{
    if let Some(field) = Row::get(row, at) {
        if field.field_name() == Some(name) {
            return T::from_nullable_sql(field.value());
        }
    }
    NamedRow::get::<ST, T>(row, name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use crate::db::{run_migrations, DatabaseUrl};
    use crate::dossier_lists::Slotted;
    use crate::dossiers::{DossierRow, COLUMNS};

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }

    /// A dossier's columns as literals, each different from the others.
    fn literals() -> Vec<(&'static str, String)> {
        let snapshot = r#"{"code":"P.1","name":"Thủ tục","processing_days":3,"fees":[],"required_documents":[],"form_schema":null,"agency_code":"A.1","agency_name":"Sở"}"#;
        let value = |c: &str| -> String {
            match c {
                "code" => "'A.1-261206-0001'".into(),
                "procedure_version" => "4".into(),
                "procedure_snapshot" => format!("'{snapshot}'"),
                "applicant" => r#"'{"full_name":"Nguyễn Văn A"}'"#.into(),
                "status" => "'processing'".into(),
                "channel" => "'post'".into(),
                "form_data" => r#"'{"purpose":"thử"}'"#.into(),
                "delivery" => r#"'{"method":"post","address":"12 Hàng Bài"}'"#.into(),
                "submitted_at" => "'2026-12-01 08:00:00'".into(),
                "received_at" => "'2026-12-01 09:00:00'".into(),
                "due_date" => "'2026-12-10'".into(),
                "working_days_allowed" => "7".into(),
                "working_days_spent" => "2".into(),
                "clock_started_on" => "'2026-12-02'".into(),
                "finished_at" | "timeliness" => "NULL".into(),
                "version" => "9".into(),
                "created_at" => "'2026-11-30 07:00:00'".into(),
                "updated_at" => "'2026-12-02 10:00:00'".into(),
                "fee_vnd" => "150000".into(),
                "change_txid" => "11".into(),
                "change_seq" => "12".into(),
                "rescheduled_due_date" => "'2026-12-15'".into(),
                other => format!("'{other}-value'"),
            }
        };
        COLUMNS.iter().map(|c| (*c, value(c))).collect()
    }

    fn select(columns: &[(&str, String)]) -> String {
        columns.iter().map(|(c, v)| format!("{v} AS {c}")).collect::<Vec<_>>().join(", ")
    }

    #[test]
    fn a_dossier_reads_alike_by_position_and_by_name() {
        let mut conn = DatabaseUrl::parse("sqlite://:memory:").unwrap().connect().unwrap();
        run_migrations(&mut conn).unwrap();
        // The positions the reader takes are the table's.
        let names: Vec<Name> =
            diesel::sql_query("SELECT name FROM pragma_table_info('dossiers') ORDER BY cid").load(&mut conn).unwrap();
        assert_eq!(names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), COLUMNS);

        let columns = literals();
        let in_order: DossierRow =
            diesel::sql_query(format!("SELECT {}", select(&columns))).get_result(&mut conn).unwrap();
        let mut shuffled = columns.clone();
        shuffled.reverse();
        shuffled.swap(3, 17);
        let by_name: DossierRow =
            diesel::sql_query(format!("SELECT {}", select(&shuffled))).get_result(&mut conn).unwrap();
        let after_slot: Slotted =
            diesel::sql_query(format!("SELECT 5 AS slot, {}", select(&columns))).get_result(&mut conn).unwrap();
        assert_eq!(format!("{in_order:?}"), format!("{by_name:?}"));
        assert_eq!(format!("{in_order:?}"), format!("{:?}", after_slot.row));
        assert_eq!(after_slot.slot, 5);
        assert_eq!(in_order.id, "id-value");
        assert_eq!(in_order.procedure_id, "procedure_id-value");
        assert_eq!(in_order.version, 9);
        assert_eq!(in_order.fee_vnd, 150_000);
        assert_eq!(in_order.working_days_spent, 2);
        assert_eq!(in_order.status.0, dvc_domain::workflow::DossierStatus::Processing);
        assert_eq!(in_order.rescheduled_due_date, chrono::NaiveDate::from_ymd_opt(2026, 12, 15));
        assert_eq!(in_order.procedure_snapshot.0.agency_name, "Sở");
        assert_eq!(in_order.delivery.0.address.as_deref(), Some("12 Hàng Bài"));
    }
}
