//! The commands the webview may call, one thin function each: take the arguments, call the
//! core, hand back its answer or its error as a `ShellError`. Each one must also be listed in
//! build.rs and allowed in capabilities/desk.json.

use otp_desk_core::contact::{mask_email, mask_phone};
use otp_desk_core::customers::{self, search, Customer};
use otp_desk_core::store::{self, Store};
use serde::Serialize;
use tauri::State;

use crate::database::Database;
use crate::error::ShellError;

/// SQLite calls block; running them on the blocking pool keeps the async runtime (and with
/// it every other command and window event) responsive while the disk works.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ShellError> + Send + 'static,
) -> Result<T, ShellError> {
    tauri::async_runtime::spawn_blocking(work).await?
}

#[derive(Debug, Serialize)]
pub struct AppStatus {
    database_path: String,
    schema_version: usize,
    customers: i64,
    version: &'static str,
}

#[tauri::command]
pub async fn app_status(database: State<'_, Database>) -> Result<AppStatus, ShellError> {
    let store = database.store()?;
    blocking(move || status_of(&store)).await
}

fn status_of(store: &Store) -> Result<AppStatus, ShellError> {
    let customers = customers::count(&store.conn())?;
    Ok(AppStatus {
        database_path: store
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        schema_version: store::schema_version(),
        customers,
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// One screen of results: the clerk refines the query rather than scrolling past this.
pub const SEARCH_MAX_LIMIT: u32 = 50;
const SEARCH_DEFAULT_LIMIT: u32 = 20;

/// A customer as the desk lists it. Contacts are masked here, in Rust, so the full address
/// and number never reach the webview for a list where nobody needs them.
#[derive(Debug, Serialize)]
pub struct CustomerCard {
    id: i64,
    account_number: String,
    name: String,
    email_masked: Option<String>,
    phone_masked: Option<String>,
    has_email: bool,
    has_phone: bool,
}

impl From<Customer> for CustomerCard {
    fn from(customer: Customer) -> Self {
        // The E.164 form is the number a text message goes to, and it carries the country
        // code the clerk may need to tell two similar numbers apart.
        let phone = customer.phone_e164.as_deref().or(customer.phone.as_deref());
        Self {
            id: customer.id,
            email_masked: customer.email.as_deref().map(mask_email),
            phone_masked: phone.map(mask_phone),
            has_email: customer.email.is_some(),
            has_phone: phone.is_some(),
            account_number: customer.account_number,
            name: customer.name,
        }
    }
}

#[tauri::command]
pub async fn search_customers(
    database: State<'_, Database>,
    query: String,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<Vec<CustomerCard>, ShellError> {
    let (limit, offset) = search_bounds(&query, limit, offset)?;
    let store = database.store()?;
    blocking(move || {
        let found = customers::search(&store.conn(), &query, limit, offset)?;
        Ok(found.into_iter().map(CustomerCard::from).collect())
    })
    .await
}

/// The core quietly caps what it is given; a caller that asks for more than that has a bug
/// or is not the desk, and is told so instead.
fn search_bounds(
    query: &str,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<(u32, u32), ShellError> {
    let chars = query.chars().count();
    if chars > search::MAX_QUERY_CHARS {
        return Err(ShellError::invalid_search(format!(
            "a search can be at most {} characters (this one has {chars}); type a shorter part of the name, account, email or phone",
            search::MAX_QUERY_CHARS
        )));
    }
    let limit = limit.unwrap_or(SEARCH_DEFAULT_LIMIT);
    if !(1..=SEARCH_MAX_LIMIT).contains(&limit) {
        return Err(ShellError::invalid_search(format!(
            "a search can list 1 to {SEARCH_MAX_LIMIT} customers at a time, not {limit}"
        )));
    }
    let offset = offset.unwrap_or(0);
    if offset > search::MAX_OFFSET {
        return Err(ShellError::invalid_search(format!(
            "results can be paged up to {} customers deep, not {offset}; narrow the search instead",
            search::MAX_OFFSET
        )));
    }
    Ok((limit, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bounds_take_defaults_and_refuse_what_the_desk_never_asks_for() {
        assert_eq!(search_bounds("jo", None, None).unwrap(), (20, 0));
        assert_eq!(search_bounds("", Some(50), Some(40)).unwrap(), (50, 40));
        let longest = "é".repeat(search::MAX_QUERY_CHARS);
        assert!(search_bounds(&longest, None, None).is_ok());
        for (query, limit, offset) in [
            (format!("{longest}x"), None, None),
            ("jo".to_string(), Some(0), None),
            ("jo".to_string(), Some(51), None),
            ("jo".to_string(), Some(u32::MAX), None),
            ("jo".to_string(), None, Some(search::MAX_OFFSET + 1)),
        ] {
            let error = search_bounds(&query, limit, offset).unwrap_err();
            assert_eq!(error.kind, "invalid_search", "{limit:?} {offset:?}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn a_card_masks_both_contacts_and_says_which_exist() {
        let customer = Customer {
            id: 7,
            account_number: "WB-7".into(),
            name: "<b>Jo</b> Smith".into(),
            email: Some("jo.smith@example.com".into()),
            phone: Some("(415) 555-0132".into()),
            phone_e164: Some("+14155550132".into()),
            service_address: "1 Main St".into(),
            notes: "gate code 1234".into(),
            created_at: 0,
            updated_at: 0,
        };
        let card = serde_json::to_value(CustomerCard::from(customer.clone())).unwrap();
        assert_eq!(
            card,
            serde_json::json!({
                "id": 7,
                "account_number": "WB-7",
                "name": "<b>Jo</b> Smith",
                "email_masked": "jo…@example.com",
                "phone_masked": "+1 …0132",
                "has_email": true,
                "has_phone": true,
            })
        );
        let text = card.to_string();
        for private in ["jo.smith", "555", "Main St", "gate"] {
            assert!(!text.contains(private), "{private} leaked into {text}");
        }

        let bare = Customer {
            email: None,
            phone: None,
            phone_e164: None,
            ..customer
        };
        let card = serde_json::to_value(CustomerCard::from(bare)).unwrap();
        assert_eq!(card["email_masked"], serde_json::Value::Null);
        assert_eq!(card["phone_masked"], serde_json::Value::Null);
        assert_eq!(card["has_email"], false);
        assert_eq!(card["has_phone"], false);
    }
}
