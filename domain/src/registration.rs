//! Registration of applicant accounts: methods, what each requires, and the assurance it gives.

use crate::auth::{AccountType, Assurance};
use crate::catalogue::code_enum;
use crate::FieldError;

code_enum! {
    /// How an applicant proves who they are when registering.
    RegistrationMethod {
        Phone = "phone",
        Bhxh = "bhxh",
        Vnpost = "vnpost",
        UsbToken = "usb_token",
        SimCa = "sim_ca",
        Smartca = "smartca",
    }
}

code_enum! {
    /// Where a registration stands: waiting for its proof, proven (a password is next), done, or
    /// closed (expired, or too many wrong tries).
    RegistrationStatus { Pending = "pending", Verified = "verified", Completed = "completed", Dead = "dead" }
}

/// The second step of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A one-time password sent to the phone.
    Otp,
    /// A signature over a server challenge with a certificate from a licensed CA.
    Signature,
}

impl RegistrationMethod {
    pub fn proof(self) -> Proof {
        match self {
            Self::Phone | Self::Bhxh | Self::Vnpost => Proof::Otp,
            Self::UsbToken | Self::SimCa | Self::Smartca => Proof::Signature,
        }
    }

    /// OTP methods give medium assurance, signature methods high.
    pub fn assurance(self) -> Assurance {
        match self.proof() {
            Proof::Otp => Assurance::Medium,
            Proof::Signature => Assurance::High,
        }
    }

    /// Citizens may use every method; businesses and organisations a phone or a signature.
    pub fn allowed_for(self, account_type: AccountType) -> bool {
        match account_type {
            AccountType::Citizen => true,
            AccountType::Business | AccountType::Organization => {
                matches!(self, Self::Phone | Self::UsbToken | Self::SimCa | Self::Smartca)
            }
            AccountType::Staff => false,
        }
    }
}

/// Which optional fields of a registration are present.
#[derive(Debug, Default, Clone, Copy)]
pub struct Presence {
    pub id_number: bool,
    pub date_of_birth: bool,
    pub phone: bool,
    pub bhxh_code: bool,
    pub tax_code: bool,
}

/// The fields a registration must carry for its account type and method, as field errors.
pub fn missing_fields(account_type: AccountType, method: RegistrationMethod, has: Presence) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut need = |present: bool, field: &str| {
        if !present {
            errors.push(FieldError::required(field));
        }
    };
    match account_type {
        AccountType::Citizen => {
            need(has.id_number, "id_number");
            need(has.date_of_birth, "date_of_birth");
        }
        AccountType::Business | AccountType::Organization => need(has.tax_code, "tax_code"),
        AccountType::Staff => {}
    }
    if method.proof() == Proof::Otp || method == RegistrationMethod::SimCa {
        need(has.phone, "phone");
    }
    if method == RegistrationMethod::Bhxh {
        need(has.bhxh_code, "bhxh_code");
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_rules() {
        assert_eq!(RegistrationMethod::Bhxh.assurance(), Assurance::Medium);
        assert_eq!(RegistrationMethod::Smartca.assurance(), Assurance::High);
        assert!(!RegistrationMethod::Bhxh.allowed_for(AccountType::Business));
        assert!(RegistrationMethod::UsbToken.allowed_for(AccountType::Business));
        let missing = missing_fields(AccountType::Citizen, RegistrationMethod::Bhxh, Presence::default());
        let fields: Vec<&str> = missing.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["id_number", "date_of_birth", "phone", "bhxh_code"]);
        let missing = missing_fields(AccountType::Business, RegistrationMethod::UsbToken, Presence::default());
        assert_eq!(missing[0].field, "tax_code");
        assert_eq!(missing.len(), 1);
    }
}
