//! Who may act: roles, account types, assurance levels and the password policy.

use crate::catalogue::code_enum;
use crate::FieldError;

code_enum! {
    /// What a signed-in principal may do.
    Role {
        Citizen = "citizen",
        Business = "business",
        Organization = "organization",
        Officer = "officer",
        Admin = "admin",
        Integration = "integration",
    }
}

code_enum! {
    /// The kind of account: applicants (citizen, business, organisation) or staff.
    AccountType { Citizen = "citizen", Business = "business", Organization = "organization", Staff = "staff" }
}

code_enum! {
    /// How strongly an identity was proven: OTP methods give medium, signatures high.
    Assurance { Low = "low", Medium = "medium", High = "high" }
}

impl Role {
    /// Staff act for an agency or administer the portal; everyone else applies.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Officer | Role::Admin)
    }

    pub fn is_applicant(self) -> bool {
        matches!(self, Role::Citizen | Role::Business | Role::Organization)
    }
}

/// Checks a new password: at least 8 characters with upper and lower case, a digit and a symbol,
/// and not containing the account's identifier (ID number, tax code, username).
pub fn check_password(password: &str, identifiers: &[&str]) -> Result<(), FieldError> {
    let long_enough = password.chars().count() >= 8 && password.len() <= 128;
    let upper = password.chars().any(char::is_uppercase);
    let lower = password.chars().any(char::is_lowercase);
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace());
    let contains_id =
        identifiers.iter().any(|id| id.len() >= 4 && password.to_lowercase().contains(&id.to_lowercase()));
    if contains_id {
        return Err(FieldError::new(
            "password",
            "password_contains_identifier",
            "Mật khẩu không được chứa số định danh hoặc tên đăng nhập",
            "The password must not contain the ID number or username",
        ));
    }
    if long_enough && upper && lower && digit && symbol {
        Ok(())
    } else {
        Err(FieldError::new(
            "password",
            "weak_password",
            "Mật khẩu dài 8–128 ký tự, có chữ hoa, chữ thường, chữ số và ký tự đặc biệt",
            "Passwords are 8–128 characters with upper and lower case letters, a digit and a symbol",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password("Abcdef1!", &[]).is_ok());
        assert!(check_password("abcdef1!", &[]).is_err());
        assert!(check_password("Abcdefg!", &[]).is_err());
        assert!(check_password("Ab1!", &[]).is_err());
        let e = check_password("X001099012345!a", &["001099012345"]).expect_err("contains id");
        assert_eq!(e.code, "password_contains_identifier");
    }
}

/// How long a (username, client address) pair waits after its `failures`-th wrong password in a
/// row: nothing for the first three, then one second doubling with each failure, at most fifteen
/// minutes. The account is never locked: its owner signs in from elsewhere, and an attacker's
/// guesses from one address slow to four an hour.
pub fn sign_in_delay(failures: i32) -> chrono::Duration {
    if failures < 3 {
        return chrono::Duration::zero();
    }
    let exponent = (failures - 3).min(10) as u32;
    chrono::Duration::seconds((1i64 << exponent).min(900))
}

#[cfg(test)]
mod sign_in_tests {
    use super::sign_in_delay;

    #[test]
    fn delays_grow_and_stop_at_fifteen_minutes() {
        let secs: Vec<i64> = (1..=16).map(|n| sign_in_delay(n).num_seconds()).collect();
        assert_eq!(secs, [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]);
    }
}
