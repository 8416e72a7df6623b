//! Procedure D in the browser (axe-core on every page of a person with JavaScript on; the
//! director works with JavaScript off): Kraków's inspector revokes a school director's
//! authorisation from the local database that granted it (mode 1), sends it through the
//! communication panel, and the ministry fetches it, marks it "Przyjęty do rozpatrzenia",
//! sends that status, accepts it and sends the decision; the central register then answers
//! "cofnięte" with the date and reason. A director revokes his own employee's (mode 2): it
//! waits in "Wysłane" with the seed's tooltip until Kraków rejects it; another is withdrawn,
//! and the first, asked again, accepted.
//! The refusals in the browser, every step in audit, and no PESEL in clear anywhere.

use std::time::Duration;

use test_support::eventually;

use crate::browser::Browser;
use crate::console::{assert_accessible, sign_in, system};
use crate::helpers::{everything, holds};

const WAIT: Duration = Duration::from_secs(30);
const PESEL_EZIELINSKA: &str = "78120986427";
const PESEL_LZAK: &str = "88081713574";
const PESEL_MWOJCIK: &str = "90013024689";

/// A page checked by axe (when the browser runs JavaScript) and saved as a screenshot.
async fn seen(browser: &Browser, javascript: bool, name: &str) {
    if javascript {
        assert_accessible(browser, name).await;
    }
    browser.screenshot(name).await;
}

/// Ticks the header's box of a tab and submits the tab's form.
async fn tick_all_and_submit(browser: &Browser, action: &str) {
    assert!(
        browser.source().await.contains("id=\"all\""),
        "nothing to tick at {}: {}",
        browser.path().await,
        browser.text().await
    );
    browser.click("#all").await;
    browser
        .submit(&format!("form[action$='{action}'] button[type=submit]"))
        .await;
}

/// Sends everything of "Do wysłania", then checks "Wysłane" until `done` more forms are in
/// "Zakończone".
async fn send_and_complete(browser: &Browser, console: &str, db: &str, done: usize) {
    let panel = format!("{console}/sio/{db}/panel");
    browser.open(&format!("{panel}?zakladka=do-wyslania")).await;
    tick_all_and_submit(browser, "/panel/wyslij").await;
    assert!(
        browser.text().await.contains("Wysłano formularze"),
        "{}",
        browser.text().await
    );
    let before = rows_in(browser, &format!("{panel}?zakladka=zakonczone")).await;
    eventually(WAIT, "the forms to reach Zakończone", || async {
        browser.open(&format!("{panel}?zakladka=wyslane")).await;
        if browser
            .text()
            .await
            .contains("doręczono do systemu centralnego")
        {
            tick_all_and_submit(browser, "/panel/sprawdz").await;
        }
        let now = rows_in(browser, &format!("{panel}?zakladka=zakonczone")).await;
        (now >= before + done).then_some(())
    })
    .await;
}

async fn rows_in(browser: &Browser, url: &str) -> usize {
    browser.open(url).await;
    browser
        .source()
        .await
        .matches("<tr>")
        .count()
        .saturating_sub(1)
}

/// "Wniosek" → "Cofnięcie" to the confirmation: from local database `db`, in `mode`, the
/// `authorisation`, for `reason`, confirmed.
async fn request(
    browser: &Browser,
    javascript: bool,
    console: &str,
    [db, mode, authorisation, reason]: [&str; 4],
    shots: Option<&str>,
) -> String {
    browser.open(&format!("{console}/sio/{db}/cofniecie")).await;
    if let Some(prefix) = shots {
        seen(browser, javascript, &format!("{prefix}-1-tryb")).await;
    }
    browser.click(&format!("#tryb-{mode}")).await;
    browser
        .submit("form[action$='/cofniecie/lista'] button")
        .await;
    if let Some(prefix) = shots {
        seen(browser, javascript, &format!("{prefix}-2-lista")).await;
    }
    browser
        .click(&format!("input[value='{authorisation}']"))
        .await;
    browser
        .submit("form[action$='/cofniecie/podglad'] button")
        .await;
    assert!(
        browser
            .text()
            .await
            .contains("Podgląd danych z upoważnienia")
    );
    if let Some(prefix) = shots {
        // The reason is mandatory: without it, the field says so.
        browser.submit("form[action$='/cofniecie'] button").await;
        assert!(
            browser.text().await.contains("pole jest obligatoryjne"),
            "{}",
            browser.text().await
        );
        seen(
            browser,
            javascript,
            &format!("{prefix}-3-podglad-bez-powodu"),
        )
        .await;
    }
    browser.select("powod", reason).await;
    browser.submit("form[action$='/cofniecie'] button").await;
    assert!(
        browser
            .text()
            .await
            .contains("Czy na pewno chcesz cofnąć upoważnienie")
    );
    if let Some(prefix) = shots {
        seen(browser, javascript, &format!("{prefix}-4-potwierdzenie")).await;
    }
    browser.submit("form[action$='/cofniecie'] button").await;
    assert_eq!(browser.path().await, format!("/sio/{db}/wnioski"));
    let text = browser.text().await;
    if let Some(prefix) = shots {
        seen(browser, javascript, &format!("{prefix}-5-przypomnienie")).await;
    }
    text
}

/// The authorising body: fetch, mark "Przyjęty do rozpatrzenia", send that status.
async fn fetch_and_mark(browser: &Browser, console: &str, db: &str, shots: Option<&str>) {
    browser
        .open(&format!("{console}/sio/{db}/rozpatrywanie"))
        .await;
    browser
        .submit("form[action$='/rozpatrywanie/pobierz'] button")
        .await;
    assert!(
        browser
            .text()
            .await
            .contains("Pobrano wnioski do rozpatrzenia: 1"),
        "{}",
        browser.text().await
    );
    browser.click("input[name=request]").await;
    browser
        .submit("form[action$='/rozpatrywanie/oznacz'] button[type=submit]")
        .await;
    assert!(browser.text().await.contains("Przyjęty do rozpatrzenia"));
    if let Some(prefix) = shots {
        seen(browser, true, &format!("{prefix}-rozpatrywanie")).await;
    }
    send_and_complete(browser, console, db, 1).await;
}

/// Opens the newest undecided request and decides it, confirmed.
async fn decide(browser: &Browser, console: &str, db: &str, decision: &str, shots: Option<&str>) {
    browser
        .open(&format!("{console}/sio/{db}/rozpatrywanie"))
        .await;
    let source = browser.source().await;
    let start = source
        .find(&format!("/sio/{db}/rozpatrywanie/0"))
        .expect("a request's link");
    let href: String = source[start..].chars().take_while(|c| *c != '"').collect();
    browser.open(&format!("{console}{href}")).await;
    browser
        .submit(&format!(
            "form:has(input[name=decyzja][value={decision}]) button"
        ))
        .await;
    assert!(
        browser.text().await.contains("Czy na pewno"),
        "{}",
        browser.text().await
    );
    if let Some(prefix) = shots {
        seen(browser, true, &format!("{prefix}-potwierdzenie-decyzji")).await;
    }
    browser
        .submit("form:has(input[name=potwierdzam]) button")
        .await;
    assert!(
        browser.text().await.contains("Decyzja została zapisana"),
        "{}",
        browser.text().await
    );
}

async fn register(browser: &Browser, console: &str, pesel: &str) -> String {
    browser.open(&format!("{console}/sio/rejestr")).await;
    browser.fill("pesel", pesel).await;
    browser.submit("form[action='/sio/rejestr'] button").await;
    browser.text().await
}

#[tokio::test]
async fn both_modes_of_procedure_d_through_the_console_from_request_to_the_central_register() {
    let system = system().await;
    let console = system.url("console");

    // Mode 1: Kraków's inspector, from the local database that granted the authorisation.
    let anowak = Browser::start(true).await;
    sign_in(&anowak, &system, "anowak").await;
    assert_eq!(anowak.path().await, "/sio");
    seen(&anowak, true, "sio-lokalne-bazy-danych").await;
    let text = request(
        &anowak,
        true,
        &console,
        [
            "LBD-KRK-1",
            "subordinate_unit",
            "UPW-2025-0002",
            "head_dismissed",
        ],
        Some("sio-tryb-1"),
    )
    .await;
    assert!(
        text.contains("przetworzenia formularza w Panelu komunikacji, aż formularz znajdzie się w zakładce Zakończone"),
        "{text}"
    );
    // The list showed only what was approved here, for units below Kraków.
    anowak
        .open(&format!(
            "{console}/sio/LBD-KRK-1/cofniecie/lista?tryb=subordinate_unit"
        ))
        .await;
    let text = anowak.text().await;
    assert!(
        text.contains("Kowalski") && text.contains("Zielińska"),
        "{text}"
    );
    assert!(text.contains("wniosek o cofnięcie w toku"), "{text}");
    assert!(
        !text.contains("Szczęśniak") && !text.contains("Grabowski"),
        "{text}"
    );
    assert!(!text.contains(PESEL_EZIELINSKA) && text.contains("*********27"));

    // Refusals, each with its reason.
    for (path, words) in [
        (
            "/sio/LBD-KRK-1/cofniecie/podglad?tryb=subordinate_unit&upowaznienie=UPW-2025-0003",
            "tylko z tej lokalnej bazy danych, w której zostało udzielone",
        ),
        (
            "/sio/LBD-KRK-1/cofniecie/podglad?tryb=subordinate_unit&upowaznienie=UPW-2025-0004",
            "nie jest podrzędna",
        ),
        (
            "/sio/LBD-KRK-1/cofniecie/lista?tryb=own_unit",
            "tylko administrator lokalnej bazy danych",
        ),
        (
            "/sio/LBD-SP7/cofniecie/lista?tryb=subordinate_unit",
            "Nie jesteś aktywnym pracownikiem jednostki",
        ),
    ] {
        anowak.open(&format!("{console}{path}")).await;
        let text = anowak.text().await;
        assert!(
            text.contains("Brak uprawnień") && text.contains(words),
            "{path}: {text}"
        );
    }
    seen(&anowak, true, "sio-odmowa").await;

    // The communication panel: sent, delivered, "Zakończone".
    anowak.open(&format!("{console}/sio/LBD-KRK-1/panel")).await;
    seen(&anowak, true, "sio-panel-do-wyslania").await;
    send_and_complete(&anowak, &console, "LBD-KRK-1", 1).await;
    seen(&anowak, true, "sio-panel-zakonczone").await;

    // The ministry reviews it and accepts.
    let mkontrola = Browser::start(true).await;
    sign_in(&mkontrola, &system, "mkontrola").await;
    fetch_and_mark(&mkontrola, &console, "LBD-MEN", Some("sio-ministerstwo")).await;
    decide(
        &mkontrola,
        &console,
        "LBD-MEN",
        "accepted",
        Some("sio-ministerstwo"),
    )
    .await;
    let detail = mkontrola.path().await;
    seen(&mkontrola, true, "sio-ministerstwo-wniosek-zaakceptowany").await;
    // A second decision is refused.
    let again = reqwest::Client::new()
        .post(format!("{console}{detail}/decyzja"))
        .header("cookie", mkontrola.session_cookie().await)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&decyzja=rejected&potwierdzam=tak",
            mkontrola.csrf().await
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("został już rozpatrzony: akceptacja wniosku")
    );
    let before = register(&anowak, &console, PESEL_EZIELINSKA).await;
    assert!(
        before.contains("w mocy"),
        "not revoked until the decision is sent: {before}"
    );
    send_and_complete(&mkontrola, &console, "LBD-MEN", 1).await;
    let after = register(&anowak, &console, PESEL_EZIELINSKA).await;
    assert!(after.contains("cofnięte"), "{after}");
    assert!(
        after.contains(
            "odwołanie ze stanowiska, rozwiązanie umowy lub wygaśnięcia mandatu kierownika podmiotu"
        ),
        "{after}"
    );
    assert!(!anowak.source().await.contains(PESEL_EZIELINSKA));
    seen(&anowak, true, "sio-rejestr-centralny").await;

    // Mode 2: the director, JavaScript off, for his own employee.
    let director = Browser::start(false).await;
    sign_in(&director, &system, "jkowalski").await;
    let text = request(
        &director,
        false,
        &console,
        [
            "LBD-SP7",
            "own_unit",
            "UPW-2025-0005",
            "access_on_behalf_of_head_withdrawn",
        ],
        Some("sio-tryb-2"),
    )
    .await;
    assert!(
        text.contains("konieczności wysłania danych do bazy danych SIO"),
        "{text}"
    );
    let panel = format!("{console}/sio/LBD-SP7/panel");
    director
        .open(&format!("{panel}?zakladka=do-wyslania"))
        .await;
    tick_all_and_submit(&director, "/panel/wyslij").await;
    let tooltip = "title=\"Wysłane do kolejki powiadomień (do organu prowadzącego)\"";
    eventually(
        WAIT,
        "the request to wait for the authorising body",
        || async {
            director.open(&format!("{panel}?zakladka=wyslane")).await;
            director.source().await.contains(tooltip).then_some(())
        },
    )
    .await;
    tick_all_and_submit(&director, "/panel/sprawdz").await;
    assert!(
        director.text().await.contains("czeka jeszcze"),
        "{}",
        director.text().await
    );
    director.open(&format!("{panel}?zakladka=wyslane")).await;
    assert!(director.source().await.contains(tooltip));
    seen(
        &director,
        false,
        "sio-tryb-2-wyslane-do-organu-prowadzacego",
    )
    .await;

    // Kraków, the school's authorising body, rejects it.
    fetch_and_mark(&anowak, &console, "LBD-KRK-1", None).await;
    decide(&anowak, &console, "LBD-KRK-1", "rejected", None).await;
    send_and_complete(&anowak, &console, "LBD-KRK-1", 1).await;
    eventually(WAIT, "the director's request to complete", || async {
        director.open(&format!("{panel}?zakladka=wyslane")).await;
        if director.source().await.contains("name=\"form\"") {
            tick_all_and_submit(&director, "/panel/sprawdz").await;
        }
        (rows_in(&director, &format!("{panel}?zakladka=zakonczone")).await == 1).then_some(())
    })
    .await;
    director
        .open(&format!("{console}/sio/LBD-SP7/wnioski"))
        .await;
    assert!(director.text().await.contains("Odrzucony"));
    assert!(
        register(&anowak, &console, PESEL_LZAK)
            .await
            .contains("w mocy")
    );

    // Another request, withdrawn ("cofnięcie wniosku").
    request(
        &director,
        false,
        &console,
        [
            "LBD-SP7",
            "own_unit",
            "UPW-2025-0006",
            "false_or_outdated_data",
        ],
        None,
    )
    .await;
    director
        .open(&format!("{panel}?zakladka=do-wyslania"))
        .await;
    tick_all_and_submit(&director, "/panel/wyslij").await;
    eventually(WAIT, "the second request to reach Kraków", || async {
        director.open(&format!("{panel}?zakladka=wyslane")).await;
        director.source().await.contains(tooltip).then_some(())
    })
    .await;
    fetch_and_mark(&anowak, &console, "LBD-KRK-1", None).await;
    decide(
        &anowak,
        &console,
        "LBD-KRK-1",
        "withdrawn",
        Some("sio-krakow"),
    )
    .await;
    assert!(anowak.text().await.contains("Wniosek cofnięty"));
    send_and_complete(&anowak, &console, "LBD-KRK-1", 1).await;
    assert!(
        register(&anowak, &console, PESEL_MWOJCIK)
            .await
            .contains("w mocy")
    );

    // Rejected before, asked again, and accepted: mode 2 revokes too.
    request(
        &director,
        false,
        &console,
        [
            "LBD-SP7",
            "own_unit",
            "UPW-2025-0005",
            "false_or_outdated_data",
        ],
        None,
    )
    .await;
    director
        .open(&format!("{panel}?zakladka=do-wyslania"))
        .await;
    tick_all_and_submit(&director, "/panel/wyslij").await;
    eventually(WAIT, "the third request to reach Kraków", || async {
        director.open(&format!("{panel}?zakladka=wyslane")).await;
        director.source().await.contains(tooltip).then_some(())
    })
    .await;
    fetch_and_mark(&anowak, &console, "LBD-KRK-1", None).await;
    decide(&anowak, &console, "LBD-KRK-1", "accepted", None).await;
    send_and_complete(&anowak, &console, "LBD-KRK-1", 1).await;
    let lzak = register(&anowak, &console, PESEL_LZAK).await;
    assert!(
        lzak.contains("cofnięte")
            && lzak.contains(
                "udzielenie upoważnienia na podstawie nieprawdziwych lub nieaktualnych danych"
            ),
        "{lzak}"
    );

    // Every step in audit: who, when, which local database, the reason code.
    let created = system
        .audit_events("event_type=revocation.request.created")
        .await;
    assert_eq!(created.len(), 4, "{created:?}");
    let first = created
        .iter()
        .find(|e| e["actor_id"] == "anowak")
        .expect("Kraków's request");
    let body = first["body"].to_string();
    assert!(
        body.contains("LBD-KRK-1") && body.contains("head_dismissed"),
        "{body}"
    );
    for kind in [
        "revocation.request.refused",
        "revocation.request.fetched",
        "revocation.request.review-started",
        "revocation.request.decided",
        "revocation.form.sent",
        "revocation.form.delivered",
        "revocation.form.completed",
        "revocation.authorisation.revoked",
    ] {
        let found = system.audit_events(&format!("event_type={kind}")).await;
        assert!(!found.is_empty(), "{kind} in audit");
    }
    let wrong = system
        .audit_events("event_type=revocation.request.refused")
        .await;
    assert!(
        wrong
            .iter()
            .any(|e| e["body"].to_string().contains("wrong_local_database"))
    );
    // The request from the wrong local database opened a security incident that says so.
    let incidents = eventually(WAIT, "audit to open an incident", || async {
        let list = system
            .audit_get("/api/incidents?category=revocation_wrong_local_database")
            .await;
        let list = list["incidents"].as_array()?.clone();
        (!list.is_empty()).then_some(list)
    })
    .await;
    let description = incidents[0]["description"].as_str().unwrap_or_default();
    assert!(
        description.contains("UPW-2025-0003")
            && description.contains("LBD-KRK-1")
            && description
                .contains("nie jest to lokalna baza danych, w której udzielono upoważnienia"),
        "{description}"
    );

    // No PESEL in clear in any database, stream or log.
    let all = everything(&system).await;
    for pesel in [PESEL_EZIELINSKA, PESEL_LZAK, PESEL_MWOJCIK] {
        assert!(!holds(&all, pesel), "{pesel} in clear");
    }
}
