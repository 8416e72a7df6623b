//! The central admin panel ("Centralny Panel Administracyjny", seed 002), for local
//! administrators signed in to the console: the staff of their institution ("Pracownicy
//! Placówki"), "Utwórz konto" with its one hand-over sheet, the permissions granted in ZSZO,
//! the account's history, the institution's forms F-02, F-03 and F-04, and (for the
//! director alone) who else is a local administrator.
//!
//! Who may: asked of the database at every request, never of the token alone, so a
//! withdrawn local administrator is refused at once. A member of another institution is
//! answered as one that does not exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, SubsecRound as _};
use contracts::events::{AccountStep, AccountStepRecorded, LocalAdminChanged};
use contracts::{Envelope, values::Login};
use kit::problem::Problem;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, problem};
use crate::domain::passwords;
use crate::domain::staff::Permission;
use crate::error::Error;
use crate::store::panel::{self, LocalAdmin, Member};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(staff))
        .routes(routes!(member))
        .routes(routes!(create_account))
        .routes(routes!(reissue_sheet))
        .routes(routes!(set_permissions))
        .routes(routes!(catalogue))
        .routes(routes!(f02))
        .routes(routes!(f03))
        .routes(routes!(f04))
        .routes(routes!(local_admins, grant_local_admin))
        .routes(routes!(withdraw_local_admin))
}

/// Members of staff a page shows at most.
const PER_PAGE_MAX: i64 = 100;
/// Permissions one request may name.
const PERMISSIONS_MAX: usize = 64;
/// The longest search.
const QUERY_MAX: usize = 100;

/// Not a local administrator (`not-local-administrator`)
#[derive(utoipa::IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
#[allow(
    dead_code,
    reason = "describes the answer only: refused_not_local_admin builds it"
)]
struct NotLocalAdmin(Problem);

/// No such member in the institution (`member-not-found`)
#[derive(utoipa::IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
#[allow(
    dead_code,
    reason = "describes the answer only: member_not_found builds it"
)]
struct MemberNotFound(Problem);

fn refused_not_local_admin() -> Response {
    Problem::new(
        StatusCode::FORBIDDEN,
        "not-local-administrator",
        "Brak uprawnień",
    )
    .detail(
        "Centralny Panel Administracyjny jest dostępny tylko dla administratora lokalnego \
             placówki: dyrektora albo osoby przez niego upoważnionej.",
    )
    .into_response()
}

fn refused_not_director() -> Response {
    Problem::new(StatusCode::FORBIDDEN, "not-director", "Brak uprawnień")
        .detail("Administratorów lokalnych upoważnia i odwołuje tylko dyrektor placówki.")
        .into_response()
}

fn member_not_found() -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "member-not-found",
        "Nie ma takiego pracownika",
    )
    .detail("Wśród pracowników Twojej placówki nie ma takiej osoby.")
    .into_response()
}

/// The signed-in person as a local administrator, or the refusal.
async fn local_admin(state: &AppState, actor: &kit::auth::Actor) -> Result<LocalAdmin, Response> {
    match panel::local_admin(&state.pool, actor.login()).await {
        Ok(Some(admin)) => Ok(admin),
        Ok(None) => Err(refused_not_local_admin()),
        Err(error) => Err(problem(error)),
    }
}

/// The signed-in local administrator, as a handler's argument: refused unless accounts'
/// own records say he is one now.
struct Admin(LocalAdmin);

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let actor = kit::auth::Actor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        local_admin(state, &actor).await.map(Admin)
    }
}

/// The local administrator and the member of staff the path names (a malformed id names
/// none).
struct AdminOf(LocalAdmin, Uuid);

impl axum::extract::FromRequestParts<AppState> for AdminOf {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let Admin(admin) = Admin::from_request_parts(parts, state).await?;
        let Ok(Path(path)) = Path::<MemberPath>::from_request_parts(parts, state).await else {
            return Err(member_not_found());
        };
        Ok(AdminOf(admin, path.id))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StaffQuery {
    /// First and/or last name, or their beginnings, with or without Polish letters.
    #[serde(default)]
    q: String,
    /// From 1.
    #[serde(default = "first_page")]
    page: i64,
    /// Up to 100; 25 when left out.
    #[serde(default = "per_page")]
    per_page: i64,
}

fn first_page() -> i64 {
    1
}

fn per_page() -> i64 {
    25
}

/// One page of the institution's staff.
#[derive(Serialize, utoipa::ToSchema)]
struct StaffPage {
    institution_rspo_id: String,
    institution_name: String,
    /// The signed-in person is the director (he alone manages local administrators).
    director: bool,
    page: i64,
    per_page: i64,
    total: i64,
    members: Vec<Member>,
    /// Accounts activated in the last 30 days: F-02, F-03 and F-04 are to be updated.
    recently_activated: Vec<panel::Activated>,
}

#[utoipa::path(
    get,
    path = "/api/panel/staff",
    tag = "panel",
    operation_id = "panel_staff",
    summary = "Search the staff of the local administrator's institution (Pracownicy Placówki)",
    description = "Role: a local administrator (the director or a person he authorised). Every \
        word of `q` matches the start of the first or the last name, case- and \
        diacritics-insensitive; Polish alphabetical order; PESEL masked.",
    params(StaffQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "A page of staff", body = StaffPage),
        (status = 400, description = "A bad query (`invalid-query`); `field` names it",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        kit::openapi::Internal,
    )
)]
async fn staff(
    State(state): State<AppState>,
    Admin(admin): Admin,
    query: Result<Query<StaffQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Niepoprawne wyszukiwanie",
        )
        .detail("Numer strony i liczba wyników na stronie muszą być liczbami.")
        .field("page")
        .into_response();
    };
    if query.q.chars().count() > QUERY_MAX {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Niepoprawne wyszukiwanie",
        )
        .detail(format!("Wpisz najwyżej {QUERY_MAX} znaków."))
        .field("q")
        .into_response();
    }
    if query.page < 1 || query.page > 100_000 || !(1..=PER_PAGE_MAX).contains(&query.per_page) {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Niepoprawne wyszukiwanie",
        )
        .detail(format!(
            "Strona od 1, od 1 do {PER_PAGE_MAX} wyników na stronie."
        ))
        .field("page")
        .into_response();
    }
    let offset = (query.page - 1) * query.per_page;
    let since = state.clock.now() - Duration::days(30);
    let found = async {
        let found = panel::staff_search(
            &state.pool,
            &admin.institution_rspo_id,
            &query.q,
            offset,
            query.per_page,
        )
        .await?;
        let activated =
            panel::recently_activated(&state.pool, &admin.institution_rspo_id, since).await?;
        Ok::<_, sqlx::Error>((found, activated))
    }
    .await;
    match found {
        Ok(((members, total), recently_activated)) => Json(StaffPage {
            recently_activated,
            institution_rspo_id: admin.institution_rspo_id,
            institution_name: admin.institution_name,
            director: admin.director,
            page: query.page,
            per_page: query.per_page,
            total,
            members,
        })
        .into_response(),
        Err(error) => problem(error),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct MemberPath {
    /// The member of staff's id.
    #[param(value_type = String, format = "uuid")]
    id: Uuid,
}

/// A permission an account holds.
#[derive(Serialize, utoipa::ToSchema)]
struct HeldPermission {
    code: String,
    name: String,
    granted_by: String,
    granted_at: chrono::DateTime<chrono::Utc>,
}

/// A step of the account's history, with its Polish name.
#[derive(Serialize, utoipa::ToSchema)]
struct HistoryStep {
    #[serde(flatten)]
    entry: panel::HistoryEntry,
    label: String,
}

/// The member's account.
#[derive(Serialize, utoipa::ToSchema)]
struct AccountView {
    login: String,
    /// `pending` until the user confirms his e-mail address, then `active`.
    status: String,
    created_at: chrono::DateTime<chrono::Utc>,
    created_by: Option<String>,
    first_login_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The confirmed address.
    email: Option<String>,
    email_confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// An address given and not yet confirmed.
    email_pending: Option<String>,
    /// The hand-over sheet may be printed again (with a new starting password): the user has
    /// not signed in yet.
    sheet_reissuable: bool,
    permissions: Vec<HeldPermission>,
    history: Vec<HistoryStep>,
    /// The account is active: the institution's F-02, F-03 and F-04 are to be updated
    /// ("po otrzymaniu informacji o założeniu Konta").
    forms_due: bool,
}

/// A member of staff with his account, if any.
#[derive(Serialize, utoipa::ToSchema)]
struct MemberDetail {
    member: Member,
    account: Option<AccountView>,
}

#[utoipa::path(
    get,
    path = "/api/panel/staff/{id}",
    tag = "panel",
    operation_id = "panel_member",
    summary = "A member of staff, his account, its permissions and its history",
    description = "Role: a local administrator of the member's institution.",
    params(MemberPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The member", body = MemberDetail),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        kit::openapi::Internal,
    )
)]
async fn member(State(state): State<AppState>, AdminOf(admin, id): AdminOf) -> Response {
    match member_detail(&state, &admin, id).await {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => member_not_found(),
        Err(error) => problem(error),
    }
}

async fn member_detail(
    state: &AppState,
    admin: &LocalAdmin,
    id: Uuid,
) -> Result<Option<MemberDetail>, sqlx::Error> {
    let mut conn = state.pool.acquire().await?;
    let Some(member) = panel::member_in(&mut conn, &admin.institution_rspo_id, id).await? else {
        return Ok(None);
    };
    let account = match &member.login {
        None => None,
        Some(login) => match panel::account_facts(&mut conn, login).await? {
            None => None,
            Some(facts) => {
                let permissions = panel::permissions(&mut conn, login)
                    .await?
                    .into_iter()
                    .map(|held| HeldPermission {
                        name: state.catalogue.name_of(&held.permission).to_owned(),
                        code: held.permission,
                        granted_by: held.granted_by,
                        granted_at: held.granted_at,
                    })
                    .collect();
                let history = panel::history(&state.pool, login)
                    .await?
                    .into_iter()
                    .map(|mut entry| {
                        // The permissions as the catalogue names them, not their codes.
                        entry.detail = entry.detail.map(|codes| {
                            codes
                                .split(',')
                                .map(|code| state.catalogue.name_of(code))
                                .collect::<Vec<_>>()
                                .join(", ")
                        });
                        HistoryStep {
                            label: AccountStep::parse(&entry.step)
                                .map_or(entry.step.clone(), |s| s.label().to_owned()),
                            entry,
                        }
                    })
                    .collect();
                Some(AccountView {
                    login: login.clone(),
                    sheet_reissuable: facts.status == "pending" && facts.first_login_at.is_none(),
                    forms_due: facts.status == "active",
                    status: facts.status,
                    created_at: facts.created_at,
                    created_by: facts.created_by,
                    first_login_at: facts.first_login_at,
                    email: facts.email,
                    email_confirmed_at: facts.email_confirmed_at,
                    email_pending: facts.email_pending,
                    permissions,
                    history,
                })
            }
        },
    };
    Ok(Some(MemberDetail { member, account }))
}

/// The permissions to grant, by their catalogue codes.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Permissions {
    #[serde(default)]
    #[schema(max_items = 64)]
    permissions: Vec<String>,
}

/// The codes asked for, each in the catalogue, without repeats; or the refusal.
fn checked_permissions(state: &AppState, body: &[u8]) -> Result<Vec<String>, Box<Response>> {
    let request = if body.is_empty() {
        Permissions {
            permissions: Vec::new(),
        }
    } else {
        serde_json::from_slice::<Permissions>(body).map_err(|_| {
            Box::new(super::invalid_request(
                "Oczekiwano JSON z polem permissions (lista kodów uprawnień).",
            ))
        })?
    };
    if request.permissions.len() > PERMISSIONS_MAX {
        return Err(Box::new(
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too-many-permissions",
                "Za dużo uprawnień",
            )
            .detail(format!(
                "Jednym żądaniem można nadać najwyżej {PERMISSIONS_MAX} uprawnień."
            ))
            .field("permissions")
            .into_response(),
        ));
    }
    let mut codes: Vec<String> = Vec::new();
    for code in request.permissions {
        if state.catalogue.find(&code).is_none() {
            let shown: String = code.chars().take(64).collect();
            return Err(Box::new(
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown-permission",
                    "Nieznane uprawnienie",
                )
                .detail(format!(
                    "W katalogu uprawnień ZSZO nie ma uprawnienia „{shown}”."
                ))
                .field("permissions")
                .into_response(),
            ));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes.sort();
    Ok(codes)
}

#[utoipa::path(
    post,
    path = "/api/panel/staff/{id}/account",
    tag = "panel",
    operation_id = "panel_account_create",
    summary = "Create the member's ZSZO account (Utwórz konto); answers its hand-over sheet",
    description = "Role: a local administrator of the member's institution. The login follows \
        the rule: the first name's initial and the surname, folded to lowercase ASCII letters, \
        with 2, 3, … added when taken. The starting password is drawn like procedure A's, kept \
        only as its argon2id hash, to be changed at the first sign-in, expiring. The answer is \
        the one hand-over sheet (PDF) with the login and the starting password: it is never \
        given again. The account waits (`pending`) until its user confirms his e-mail address \
        on the access portal. Recorded: `accounts.account.created`, `.sheet-issued`, and \
        `.permission-granted` for each permission.",
    params(MemberPath),
    request_body = Permissions,
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Created; the hand-over sheet, `Cache-Control: no-store`",
            content_type = "application/pdf",
            headers(("Klucznik-Login" = String, description = "The new account's login"))),
        (status = 400, description = "The body is not `{permissions}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        (status = 409, description = "The member has an account already (`account-exists`), or \
            no longer works at the institution (`member-left`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "A permission not in the catalogue (`unknown-permission`) \
            or too many (`too-many-permissions`); `field` is `permissions`",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn create_account(
    State(state): State<AppState>,
    AdminOf(admin, id): AdminOf,
    body: axum::body::Bytes,
) -> Response {
    let codes = match checked_permissions(&state, &body) {
        Ok(codes) => codes,
        Err(response) => return *response,
    };
    let now = state.clock.now();
    let (password, hash) = match starting_password(&state).await {
        Ok(drawn) => drawn,
        Err(error) => return problem(error),
    };
    let expires_at = (now + Duration::days(state.starting.expiry_days)).trunc_subsecs(0);
    let result = async {
        let mut tx = state.pool.begin().await?;
        let Some(member) = panel::member_lock(&mut tx, &admin.institution_rspo_id, id).await?
        else {
            return Ok(Err(member_not_found()));
        };
        if let Some(login) = &member.login {
            return Ok(Err(Problem::new(
                StatusCode::CONFLICT,
                "account-exists",
                "Konto już istnieje",
            )
            .detail(format!(
                "{} {} ma już konto ZSZO o loginie „{login}”. Drugiego konta nie tworzy się; \
                 uprawnienia zmienia się na karcie pracownika.",
                member.first_name, member.last_name
            ))
            .into_response()));
        }
        if member.employment == crate::domain::staff::Employment::Left {
            return Ok(Err(Problem::new(
                StatusCode::CONFLICT,
                "member-left",
                "Osoba nie pracuje w placówce",
            )
            .detail("Konto tworzy się tylko dla osoby zatrudnionej w placówce.")
            .into_response()));
        }
        let login = panel::account_create_in_txn(
            &mut tx,
            &admin.institution_rspo_id,
            &member,
            &hash,
            expires_at,
            &admin.login,
            now,
        )
        .await?;
        let step = |step: AccountStep, permission: Option<String>, permissions: Vec<String>| {
            AccountStepRecorded {
                login: login.clone(),
                step,
                staff_member_id: Some(member.id),
                permission,
                permissions,
                local_admin_email: None,
                person_name: None,
            }
        };
        let institution = Some(admin.institution_rspo_id.as_str());
        panel::step_record_in_txn(
            &mut tx,
            admin.actor(),
            institution,
            step(AccountStep::Created, None, codes.clone()),
            now,
        )
        .await?;
        for code in &codes {
            panel::permission_grant_in_txn(&mut tx, &login, code, &admin.login, now).await?;
            panel::step_record_in_txn(
                &mut tx,
                admin.actor(),
                institution,
                step(
                    AccountStep::PermissionGranted,
                    Some(code.clone()),
                    Vec::new(),
                ),
                now,
            )
            .await?;
        }
        panel::step_record_in_txn(
            &mut tx,
            admin.actor(),
            institution,
            step(AccountStep::SheetIssued, None, Vec::new()),
            now,
        )
        .await?;
        // The sheet is drawn before the commit: an account is never created without it.
        let sheet = hand_over_sheet(&state, &admin, &member, &login, password, expires_at, now)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok((login, sheet)))
    }
    .await;
    match result {
        Ok(Ok((login, sheet))) => {
            tracing::info!(%login, by = %admin.login, "a ZSZO account created in the panel");
            sheet_response(StatusCode::CREATED, &login, sheet)
        }
        Ok(Err(response)) => response,
        Err(error) => problem(error),
    }
}

/// A starting password drawn like procedure A's, and its argon2id hash (off the async workers).
async fn starting_password(state: &AppState) -> Result<(secrecy::SecretString, String), Error> {
    let password = passwords::generate(state.starting.length).map_err(Error::unavailable)?;
    let hasher = Arc::clone(&state.hasher);
    let to_hash = password.clone();
    let hash = crate::domain::hashing::off_thread(move || hasher.hash(&to_hash))
        .await
        .map_err(Error::unavailable)?
        .map_err(Error::unavailable)?;
    Ok((password, hash))
}

fn hand_over_sheet(
    state: &AppState,
    admin: &LocalAdmin,
    member: &Member,
    login: &str,
    password: secrecy::SecretString,
    expires_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, letters::LetterError> {
    letters::render_pdf(&letters::LetterContent {
        institution_name: admin.institution_name.clone(),
        person: Some(letters::PersonName {
            first_name: member.first_name.clone(),
            last_name: member.last_name.clone(),
        }),
        login: login.to_owned(),
        starting_password: password,
        portal_url: state.portal_url.clone(),
        expires_at,
        case_number: format!(
            "{} (administrator lokalny: {})",
            letters::polish_date_time(now),
            admin.login
        ),
        account: letters::AccountKind::NewZszoAccount,
    })
}

fn sheet_response(status: StatusCode, login: &str, sheet: Vec<u8>) -> Response {
    let mut response = (status, sheet).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(login) {
        headers.insert("klucznik-login", value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!(
        "inline; filename=\"arkusz-przekazania-{login}.pdf\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[utoipa::path(
    post,
    path = "/api/panel/staff/{id}/sheet",
    tag = "panel",
    operation_id = "panel_sheet_reissue",
    summary = "A new hand-over sheet with a new starting password, before the first sign-in",
    description = "Role: a local administrator of the member's institution. For a sheet lost \
        before it reached the employee: only while the account waits and its user has not \
        signed in; the earlier starting password stops working. No body is read. Recorded: \
        `accounts.account.sheet-issued`.",
    params(MemberPath),
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "The new hand-over sheet, `Cache-Control: no-store`",
            content_type = "application/pdf",
            headers(("Klucznik-Login" = String, description = "The account's login"))),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        (status = 409, description = "No account, or its user signed in already \
            (`sheet-not-reissuable`)", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn reissue_sheet(State(state): State<AppState>, AdminOf(admin, id): AdminOf) -> Response {
    let now = state.clock.now();
    let (password, hash) = match starting_password(&state).await {
        Ok(drawn) => drawn,
        Err(error) => return problem(error),
    };
    let expires_at = (now + Duration::days(state.starting.expiry_days)).trunc_subsecs(0);
    let not_reissuable = || {
        Problem::new(
            StatusCode::CONFLICT,
            "sheet-not-reissuable",
            "Arkusza nie można wydać ponownie",
        )
        .detail(
            "Nowy arkusz przekazania wydaje się tylko dla konta, na które pracownik jeszcze się \
             nie zalogował. Zalogowany pracownik zmienia hasło sam.",
        )
        .into_response()
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        let Some(member) = panel::member_lock(&mut tx, &admin.institution_rspo_id, id).await?
        else {
            return Ok(Err(member_not_found()));
        };
        let Some(login) = member.login.clone() else {
            return Ok(Err(not_reissuable()));
        };
        if !panel::starting_password_replace_in_txn(&mut tx, &login, &hash, expires_at, now).await?
        {
            return Ok(Err(not_reissuable()));
        }
        panel::step_record_in_txn(
            &mut tx,
            admin.actor(),
            Some(&admin.institution_rspo_id),
            AccountStepRecorded {
                login: login.clone(),
                step: AccountStep::SheetIssued,
                staff_member_id: Some(member.id),
                permission: None,
                permissions: Vec::new(),
                local_admin_email: None,
                person_name: None,
            },
            now,
        )
        .await?;
        let sheet = hand_over_sheet(&state, &admin, &member, &login, password, expires_at, now)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok((login, sheet)))
    }
    .await;
    match result {
        Ok(Ok((login, sheet))) => sheet_response(StatusCode::CREATED, &login, sheet),
        Ok(Err(response)) => response,
        Err(error) => problem(error),
    }
}

/// What changed.
#[derive(Serialize, utoipa::ToSchema)]
struct PermissionsChanged {
    granted: Vec<String>,
    withdrawn: Vec<String>,
}

#[utoipa::path(
    post,
    path = "/api/panel/staff/{id}/permissions",
    tag = "panel",
    operation_id = "panel_permissions_set",
    summary = "Set the ZSZO permissions of the member's account",
    description = "Role: a local administrator of the member's institution. The account holds \
        exactly the permissions named afterwards; each grant and each withdrawal is recorded \
        (`accounts.account.permission-granted`, `.permission-withdrawn`).",
    params(MemberPath),
    request_body = Permissions,
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Set", body = PermissionsChanged),
        (status = 400, description = "The body is not `{permissions}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        (status = 409, description = "The member has no account (`no-account`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        (status = 422, description = "A permission not in the catalogue (`unknown-permission`); \
            `field` is `permissions`", body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn set_permissions(
    State(state): State<AppState>,
    AdminOf(admin, id): AdminOf,
    body: axum::body::Bytes,
) -> Response {
    let wanted = match checked_permissions(&state, &body) {
        Ok(codes) => codes,
        Err(response) => return *response,
    };
    let now = state.clock.now();
    let result = async {
        let mut tx = state.pool.begin().await?;
        let Some(member) = panel::member_lock(&mut tx, &admin.institution_rspo_id, id).await?
        else {
            return Ok(Err(member_not_found()));
        };
        let Some(login) = member.login.clone() else {
            return Ok(Err(Problem::new(
                StatusCode::CONFLICT,
                "no-account",
                "Brak konta",
            )
            .detail("Ta osoba nie ma jeszcze konta ZSZO: najpierw utwórz konto.")
            .into_response()));
        };
        let held: Vec<String> = panel::permissions(&mut tx, &login)
            .await?
            .into_iter()
            .map(|h| h.permission)
            .collect();
        let granted: Vec<String> = wanted
            .iter()
            .filter(|c| !held.contains(c))
            .cloned()
            .collect();
        let withdrawn: Vec<String> = held
            .iter()
            .filter(|c| !wanted.contains(c))
            .cloned()
            .collect();
        let record = |step: AccountStep, code: &str| AccountStepRecorded {
            login: login.clone(),
            step,
            staff_member_id: Some(member.id),
            permission: Some(code.to_owned()),
            permissions: Vec::new(),
            local_admin_email: None,
            person_name: None,
        };
        for code in &granted {
            panel::permission_grant_in_txn(&mut tx, &login, code, &admin.login, now).await?;
            panel::step_record_in_txn(
                &mut tx,
                admin.actor(),
                Some(&admin.institution_rspo_id),
                record(AccountStep::PermissionGranted, code),
                now,
            )
            .await?;
        }
        for code in &withdrawn {
            panel::permission_withdraw_in_txn(&mut tx, &login, code).await?;
            panel::step_record_in_txn(
                &mut tx,
                admin.actor(),
                Some(&admin.institution_rspo_id),
                record(AccountStep::PermissionWithdrawn, code),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(PermissionsChanged { granted, withdrawn }))
    }
    .await;
    match result {
        Ok(Ok(changed)) => Json(changed).into_response(),
        Ok(Err(response)) => response,
        Err(error) => problem(error),
    }
}

#[utoipa::path(
    get,
    path = "/api/panel/permissions",
    tag = "panel",
    operation_id = "panel_permission_catalogue",
    summary = "The catalogue of ZSZO permissions a local administrator may grant",
    description = "Role: a local administrator. From accounts' configuration \
        (`accounts.permission_catalogue`).",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The catalogue", body = Vec<Permission>),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        kit::openapi::Internal,
    )
)]
async fn catalogue(State(state): State<AppState>, _admin: Admin) -> Response {
    Json(state.catalogue.0.clone()).into_response()
}

/// The member and his account, for the forms: only once the account exists.
async fn member_with_account(
    state: &AppState,
    admin: &LocalAdmin,
    id: Uuid,
) -> Result<(Member, String, chrono::DateTime<chrono::Utc>, Vec<String>), Response> {
    let detail = match member_detail(state, admin, id).await {
        Ok(Some(detail)) => detail,
        Ok(None) => return Err(member_not_found()),
        Err(error) => return Err(problem(error)),
    };
    let Some(account) = detail.account else {
        return Err(
            Problem::new(StatusCode::CONFLICT, "no-account", "Brak konta")
                .detail("Formularze F-02 i F-03 wypełnia się dla utworzonego konta.")
                .into_response(),
        );
    };
    let names = account.permissions.into_iter().map(|p| p.name).collect();
    Ok((detail.member, account.login, account.created_at, names))
}

fn document(content_type: &'static str, filename: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[utoipa::path(
    get,
    path = "/api/panel/staff/{id}/f-02",
    tag = "panel",
    operation_id = "panel_form_f02",
    summary = "F-02, the employee's authorisation to process personal data, pre-filled (PDF)",
    description = "Role: a local administrator of the member's institution. Names the employee, \
        his position, his login and every ZSZO permission granted. Kept at the institution.",
    params(MemberPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "F-02", content_type = "application/pdf"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        (status = 409, description = "The member has no account (`no-account`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn f02(State(state): State<AppState>, AdminOf(admin, id): AdminOf) -> Response {
    let (member, login, created_at, permissions) =
        match member_with_account(&state, &admin, id).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    match letters::render_f02(&letters::F02Content {
        institution_name: admin.institution_name.clone(),
        first_name: member.first_name,
        last_name: member.last_name,
        position: member.position,
        login: login.clone(),
        permissions,
        granted_at: created_at,
    }) {
        Ok(pdf) => document("application/pdf", &format!("F-02-{login}.pdf"), pdf),
        Err(error) => problem(Error::Unusable(error.to_string())),
    }
}

/// A CSV cell: quoted, and a leading `=`, `+`, `-` or `@` defused so that a spreadsheet does
/// not run it as a formula.
fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[utoipa::path(
    get,
    path = "/api/panel/staff/{id}/f-03",
    tag = "panel",
    operation_id = "panel_form_f03_row",
    summary = "The new row of F-03, the register of persons authorised to process personal data (CSV)",
    description = "Role: a local administrator of the member's institution. A header and one \
        row, `;`-separated, UTF-8 with a byte-order mark (as a Polish spreadsheet opens it).",
    params(MemberPath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The F-03 row", content_type = "text/csv"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        MemberNotFound,
        (status = 409, description = "The member has no account (`no-account`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn f03(State(state): State<AppState>, AdminOf(admin, id): AdminOf) -> Response {
    let (member, login, created_at, permissions) =
        match member_with_account(&state, &admin, id).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let date = letters::polish_date_time(created_at);
    let date = date.split(' ').next().unwrap_or(&date).to_owned();
    let header = [
        "Lp.",
        "Imię i nazwisko",
        "Stanowisko",
        "Identyfikator użytkownika (login)",
        "Zakres upoważnienia",
        "Data nadania upoważnienia",
        "Data ustania upoważnienia",
    ];
    let row = [
        String::new(),
        format!("{} {}", member.first_name, member.last_name),
        member.position,
        login.clone(),
        permissions.join(", "),
        date,
        String::new(),
    ];
    let line = |cells: Vec<String>| cells.join(";");
    let csv = format!(
        "\u{feff}{}\r\n{}\r\n",
        line(header.iter().map(|h| cell(h)).collect()),
        line(row.iter().map(|c| cell(c)).collect())
    );
    document(
        "text/csv; charset=utf-8",
        &format!("F-03-{login}.csv"),
        csv.into_bytes(),
    )
}

#[utoipa::path(
    get,
    path = "/api/panel/f-04",
    tag = "panel",
    operation_id = "panel_form_f04",
    summary = "F-04, the list of rooms where personal data is processed: the template (PDF)",
    description = "Role: a local administrator. With the institution's name; filled in by hand \
        and kept at the institution.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "F-04", content_type = "application/pdf"),
        kit::openapi::Unauthorized,
        NotLocalAdmin,
        kit::openapi::Internal,
    )
)]
async fn f04(Admin(admin): Admin) -> Response {
    match letters::render_f04(&admin.institution_name) {
        Ok(pdf) => document("application/pdf", "F-04.pdf", pdf),
        Err(error) => problem(Error::Unusable(error.to_string())),
    }
}

/// The institution's local administrators, for its director.
#[derive(Serialize, utoipa::ToSchema)]
struct LocalAdmins {
    institution_rspo_id: String,
    institution_name: String,
    director_login: String,
    /// Open grants first, then withdrawn ones, newest first.
    grants: Vec<panel::Grant>,
}

#[utoipa::path(
    get,
    path = "/api/panel/local-admins",
    tag = "panel",
    operation_id = "panel_local_admins",
    summary = "The institution's local administrators, granted and withdrawn",
    description = "Role: the institution's director.",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The grants", body = LocalAdmins),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not a local administrator (`not-local-administrator`) or \
            not the director (`not-director`)", body = Problem,
            content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn local_admins(State(state): State<AppState>, Admin(admin): Admin) -> Response {
    if !admin.director {
        return refused_not_director();
    }
    match panel::grants(&state.pool, &admin.institution_rspo_id).await {
        Ok(grants) => Json(LocalAdmins {
            institution_rspo_id: admin.institution_rspo_id,
            institution_name: admin.institution_name,
            director_login: admin.login,
            grants,
        })
        .into_response(),
        Err(error) => problem(error),
    }
}

/// Whom to authorise.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Grantee {
    /// The login of a ZSZO account of the director's institution.
    #[schema(max_length = 64)]
    login: String,
}

/// The grant made.
#[derive(Serialize, utoipa::ToSchema)]
struct Granted {
    login: String,
    /// He had no second factor: his TOTP enrolment was prepared, shown at his next console
    /// sign-in with the password before this.
    totp_enrolment_until: Option<chrono::DateTime<chrono::Utc>>,
}

#[utoipa::path(
    post,
    path = "/api/panel/local-admins",
    tag = "panel",
    operation_id = "panel_local_admin_grant",
    summary = "Authorise a person of the institution as its local administrator",
    description = "Role: the institution's director. The person must have an active ZSZO \
        account of the institution. Without a second factor, his TOTP enrolment is prepared. \
        Recorded: `accounts.local-admin.granted`.",
    request_body = Grantee,
    security(("staff_token" = [])),
    responses(
        (status = 201, description = "Granted", body = Granted),
        (status = 400, description = "The body is not `{login}` (`invalid-request`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not the director (`not-director`, \
            `not-local-administrator`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No ZSZO account of that login at the institution \
            (`account-not-found`); `field` is `login`",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a local administrator (`already-granted`), the \
            director himself (`director`), or an account not active (`account-not-active`); \
            `field` is `login`", body = Problem, content_type = "application/problem+json"),
        kit::openapi::TooLarge,
        kit::openapi::Internal,
    )
)]
async fn grant_local_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    body: axum::body::Bytes,
) -> Response {
    if !admin.director {
        return refused_not_director();
    }
    let Ok(request) = serde_json::from_slice::<Grantee>(&body) else {
        return super::invalid_request("Oczekiwano JSON z polem login.");
    };
    let typed = request.login.trim().to_ascii_lowercase();
    let refusal = |status: StatusCode, kind: &str, title: &str, detail: String| {
        Problem::new(status, kind, title)
            .detail(detail)
            .field("login")
            .into_response()
    };
    let not_found = || {
        refusal(
            StatusCode::NOT_FOUND,
            "account-not-found",
            "Nie ma takiego konta",
            format!(
                "W Twojej placówce nie ma konta ZSZO o loginie „{}”.",
                typed.chars().take(64).collect::<String>()
            ),
        )
    };
    let Ok(login) = Login::parse(&typed) else {
        return not_found();
    };
    let login = login.to_string();
    let now = state.clock.now();
    let result = async {
        let mut tx = state.pool.begin().await?;
        match panel::grant_in_txn(
            &mut tx,
            &admin.institution_rspo_id,
            &login,
            &admin.login,
            now,
        )
        .await?
        {
            Ok(()) => {}
            Err(why) => return Ok(Err(why)),
        }
        let until = if panel::has_totp(&mut tx, &login).await? {
            None
        } else {
            crate::store::enrolment::enrolment_prepare_recorded_in_txn(
                &mut tx,
                &login,
                &admin.login,
                "director",
                now,
            )
            .await?
        };
        local_admin_changed_in_txn(&mut tx, &admin, &login, true, now).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(until))
    }
    .await;
    match result {
        Ok(Ok(until)) => {
            tracing::info!(%login, by = %admin.login, "a local administrator authorised");
            (
                StatusCode::CREATED,
                Json(Granted {
                    login,
                    totp_enrolment_until: until,
                }),
            )
                .into_response()
        }
        Ok(Err(panel::NotGrantable::NoSuchAccount)) => not_found(),
        Ok(Err(panel::NotGrantable::TheDirector)) => refusal(
            StatusCode::CONFLICT,
            "director",
            "To konto dyrektora",
            "Dyrektor jest administratorem lokalnym z mocy procedury; nie upoważnia się go.".into(),
        ),
        Ok(Err(panel::NotGrantable::AlreadyGranted)) => refusal(
            StatusCode::CONFLICT,
            "already-granted",
            "Już upoważniony",
            format!("Osoba o loginie „{login}” jest już administratorem lokalnym."),
        ),
        Ok(Err(panel::NotGrantable::NotActive)) => refusal(
            StatusCode::CONFLICT,
            "account-not-active",
            "Konto nieaktywne",
            format!(
                "Konto „{login}” nie jest aktywne: upoważnić można osobę, która potwierdziła \
                 konto i może się logować."
            ),
        ),
        Err(error) => problem(error),
    }
}

/// Tells audit who authorised or withdrew whom.
async fn local_admin_changed_in_txn(
    tx: &mut sqlx::PgConnection,
    admin: &LocalAdmin,
    login: &str,
    granted: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let event = Envelope::new(
        admin.actor(),
        now,
        LocalAdminChanged {
            login: login.to_owned(),
            granted,
            by: admin.login.clone(),
        },
    )
    .institution(&admin.institution_rspo_id);
    kit::outbox::outbox_insert_event(tx, &event).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct GranteePath {
    /// The local administrator's login.
    login: String,
}

/// The grant withdrawn.
#[derive(Serialize, utoipa::ToSchema)]
struct Withdrawn {
    login: String,
    withdrawn: bool,
}

#[utoipa::path(
    post,
    path = "/api/panel/local-admins/{login}/withdraw",
    tag = "panel",
    operation_id = "panel_local_admin_withdraw",
    summary = "Withdraw a local administrator's authorisation",
    description = "Role: the institution's director. Takes effect at once: every panel request \
        of his is refused from then on. No body is read. Recorded: \
        `accounts.local-admin.withdrawn`.",
    params(GranteePath),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = Withdrawn),
        kit::openapi::Unauthorized,
        (status = 403, description = "Not the director (`not-director`, \
            `not-local-administrator`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No open grant for that login (`grant-not-found`)",
            body = Problem, content_type = "application/problem+json"),
        kit::openapi::Internal,
    )
)]
async fn withdraw_local_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(path): Path<GranteePath>,
) -> Response {
    if !admin.director {
        return refused_not_director();
    }
    let login = path.login.trim().to_ascii_lowercase();
    let now = state.clock.now();
    let result = async {
        let mut tx = state.pool.begin().await?;
        if !panel::withdraw_in_txn(
            &mut tx,
            &admin.institution_rspo_id,
            &login,
            &admin.login,
            now,
        )
        .await?
        {
            return Ok(false);
        }
        local_admin_changed_in_txn(&mut tx, &admin, &login, false, now).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(true)
    }
    .await;
    match result {
        Ok(true) => {
            tracing::info!(%login, by = %admin.login, "a local administrator withdrawn");
            Json(Withdrawn {
                login,
                withdrawn: true,
            })
            .into_response()
        }
        Ok(false) => Problem::new(
            StatusCode::NOT_FOUND,
            "grant-not-found",
            "Brak upoważnienia",
        )
        .detail("Ta osoba nie jest upoważnionym administratorem lokalnym Twojej placówki.")
        .into_response(),
        Err(error) => problem(error),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_csv_cell_is_quoted_and_a_formula_defused() {
        assert_eq!(
            super::cell("Anna \"Ania\" Nowak"),
            "\"Anna \"\"Ania\"\" Nowak\""
        );
        assert_eq!(
            super::cell("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(super::cell("-1"), "\"'-1\"");
    }
}
