"""The pages in Danish: every `t("…")` text of the templates, and words for the slugs.

A test (tests/test_web_language.py) fails when a template's text has no Danish here.
"""

from __future__ import annotations

# fmt: off
DANISH: dict[str, str] = {
    "Worth a call": "Værd at ringe om",
    "Departments disagree on: {fact}": "Afdelingerne er uenige om: {fact}",
    "The same help twice: {group}": "Samme hjælp to gange: {group}",
    "and": "og",
    "both from {start}": "begge fra {start}",
    "to {end}": "til {end}",
    "Above the cost threshold": "Over beløbsgrænsen",
    "{total} a year across budgets, against a threshold of {threshold}":
        "{total} om året på tværs af budgetter, mod en grænse på {threshold}",
    "Record a consent": "Registrér et samtykke",
    "The consent was not recorded:": "Samtykket blev ikke registreret:",
    "For the citizen {cpr}.": "For borgeren {cpr}.",
    "CPR number": "CPR-nummer",
    "Given by": "Givet af",
    "Name (guardian or representative)": "Navn (forælder/værge eller repræsentant)",
    "Data from": "Oplysninger fra",
    "Shared with": "Deles med",
    "What may be shared": "Hvad der må deles",
    "special category, GDPR art. 9": "særlig kategori, GDPR art. 9",
    "Purpose": "Formål",
    "names a case": "nævner en sag",
    "at most {days} days": "højst {days} dage",
    "the case must be named": "sagen skal nævnes",
    "Case (journal number)": "Sag (journalnummer)",
    "Required when the purpose names a case (retssikkerhedsloven § 11 a).":
        "Skal udfyldes, når formålet gælder én sag (retssikkerhedsloven § 11 a).",
    "Valid from": "Gælder fra",
    "Valid until": "Gælder til og med",
    "Only data about this period (optional)": "Kun oplysninger om denne periode (valgfrit)",
    "From": "Fra",
    "To": "Til",
    "Evidence": "Dokumentation",
    "Kind": "Type",
    "Reference": "Reference",
    "Information text shown to the citizen (version, optional)":
        "Oplysningstekst vist for borgeren (version, valgfrit)",
    "Preview what it opens": "Se, hvad det åbner",
    "Record consent": "Registrér samtykke",
    "Consents involving {department}": "Samtykker, der omfatter {department}",
    "Status": "Status",
    "What": "Hvad",
    "Valid": "Gyldighed",
    "Used": "Brugt",
    "Change": "Ændr",
    "case": "sag",
    "New end date": "Ny slutdato",
    "Why": "Begrundelse",
    "Extend": "Forlæng",
    "Reason for withdrawal": "Begrundelse for tilbagekaldelse",
    "Withdraw": "Tilbagekald",
    "No consents.": "Ingen samtykker.",
    "Cost across budgets": "Udgifter på tværs af budgetter",
    "Department": "Afdeling",
    "What runs today": "Det, der løber i dag",
    "A year": "Om året",
    "In total": "I alt",
    "No running benefits or interventions with an amount are shown.":
        "Der vises ingen løbende ydelser eller indsatser med et beløb.",
    "Above the configured threshold of {threshold} a year.":
        "Over den fastsatte grænse på {threshold} om året.",
    "Below the configured threshold of {threshold} a year.":
        "Under den fastsatte grænse på {threshold} om året.",
    "Only what the consents let you see: amounts from {departments} are not included, so the "
    "total is a minimum.":
        "Kun det, samtykkerne giver dig adgang til: beløb fra {departments} er ikke med, så "
        "summen er et minimum.",
    "What the view covers": "Hvad overblikket dækker",
    "System": "System",
    "Shown": "Vist",
    "Not shown: what a consent would have to name": "Ikke vist: hvad et samtykke skulle nævne",
    "export of {date}": "udtræk fra {date}",
    "live": "direkte fra systemet",
    "A consent from {source} to {recipient} for “{purpose}” naming {categories} would open them.":
        "Et samtykke fra {source} til {recipient} til “{purpose}”, der nævner {categories}, ville "
        "åbne for dem.",
    "Special categories must be named one by one: {categories}.":
        "Særlige kategorier skal nævnes enkeltvis: {categories}.",
    "No consent for this purpose can open {categories}.":
        "Intet samtykke til dette formål kan åbne for {categories}.",
    "This system was not asked.": "Systemet blev ikke spurgt.",
    "The log's state": "Loggens tilstand",
    "Latest signed checkpoint": "Seneste signerede kontrolpunkt",
    "{size} entries, signed {when}": "{size} poster, signeret {when}",
    "none yet": "endnu ingen",
    "Last verification": "Seneste verifikation",
    "complete and unaltered ({n} entries)": "fuldstændig og uændret ({n} poster)",
    "FAILED at entry {n}": "FEJLEDE ved post {n}",
    "not verified yet": "endnu ikke verificeret",
    "Verify now": "Verificér nu",
    "Not yet a consent that can be recorded:": "Endnu ikke et samtykke, der kan registreres:",
    "What this consent would open from {day}": "Hvad samtykket vil åbne fra {day}",
    "sees": "ser",
    "from": "fra",
    "Nothing: no system offers what the draft names.":
        "Intet: intet system har det, udkastet nævner.",
    "Choose departments and what may be shared; a preview of what the consent opens appears "
    "here.":
        "Vælg afdelinger og hvad der må deles; her vises så, hvad samtykket vil åbne.",
    "Progression": "Progression",
    "scale {low} to {high}": "skala {low} til {high}",
    "Timeline, newest first": "Tidslinje, nyeste først",
    "undated": "uden dato",
    "contact": "kontakt",
    "Nothing released.": "Intet vist.",
    "Anomalies": "Afvigelser",
    "Anomalies in the access log": "Afvigelser i adgangsloggen",
    "Patterns that deserve a question, not a verdict. Each line is one person on one day; the "
    "numbers are positions in the access log.":
        "Mønstre, der fortjener et spørgsmål, ikke en dom. Hver linje er én person på én dag; "
        "numrene er positioner i adgangsloggen.",
    "Show": "Vis",
    "Day": "Dag",
    "Who": "Hvem",
    "How many": "Hvor mange",
    "Why it stands out": "Hvorfor det skiller sig ud",
    "Entries": "Poster",
    "(no identity)": "(ingen identitet)",
    "usually {median} a day; above {limit} is unusual ({days} person-days)":
        "normalt {median} om dagen; over {limit} er usædvanligt ({days} persondage)",
    "above the ceiling; no baseline for the department yet":
        "over loftet; afdelingen har endnu intet normalniveau",
    "refused {n} times": "afvist {n} gange",
    "outside the configured hours or days": "uden for de fastsatte timer eller dage",
    "nothing held by the own department": "egen afdeling har intet om borgeren",
    "IT operations may check sources with test citizens only":
        "IT-drift må kun tjekke kilder med testborgere",
    "Working hours (from the configuration): {start} to {end}, weekdays {days}, {zone}.":
        "Arbejdstid (fra opsætningen): {start} til {end}, ugedage {days}, {zone}.",
    "Views outside working hours are not flagged (flag_outside_working_hours = false in the "
    "configuration).":
        "Opslag uden for arbejdstid markeres ikke (flag_outside_working_hours = false i "
        "opsætningen).",
    "Nothing stands out between {since} and {until}.":
        "Intet skiller sig ud mellem {since} og {until}.",
    "Access log": "Adgangslog",
    "Action": "Handling",
    "any": "alle",
    "Outcome": "Udfald",
    "User (subject)": "Bruger (id)",
    "Filter": "Filtrér",
    "Access log entries, newest first": "Adgangslogens poster, nyeste først",
    "When": "Hvornår",
    "Citizen": "Borger",
    "No entries.": "Ingen poster.",
    "Pages of the log": "Loggens sider",
    "Newest": "Nyeste",
    "Older entries": "Ældre poster",
    "Skip to the content": "Gå til indholdet",
    "Main menu": "Hovedmenu",
    "Citizen view": "Borgeroverblik",
    "Consents": "Samtykker",
    "Reports": "Rapporter",
    "Verify the log": "Verificér loggen",
    "Systems": "Systemer",
    "Your consents": "Dine samtykker",
    "Who has used your data": "Hvem har brugt dine oplysninger",
    "Sign out": "Log ud",
    "Ten digits, with or without the hyphen. It travels in the form, never in an address.":
        "Ti cifre, med eller uden bindestreg. Det sendes i formularen, aldrig i en adresse.",
    "Shown {when} (Copenhagen time) · access-log entry {entry}":
        "Vist {when} (dansk tid) · post {entry} i adgangsloggen",
    "Joint overview for the meeting (print)": "Fælles overblik til mødet (udskriv)",
    "Per department": "Pr. afdeling",
    "Title": "Titel",
    "Period": "Periode",
    "Responsible": "Ansvarlig",
    "Legal basis": "Lovgrundlag",
    "Consent": "Samtykke",
    "The consent is now {status}; it takes effect from the very next view.":
        "Samtykket er nu {status}; det gælder fra næste opslag.",
    "version {n}": "version {n}",
    "Withdrawn": "Tilbagekaldt",
    "Download your receipt": "Hent din kvittering",
    "Back to your consents": "Tilbage til dine samtykker",
    "Back to the citizen view": "Tilbage til borgeroverblikket",
    "Find a citizen's consents": "Find en borgers samtykker",
    "Find": "Find",
    "Status {status} · code {code}": "Status {status} · kode {code}",
    "request {id}": "forespørgsel {id}",
    "Back to the start page": "Tilbage til forsiden",
    "Welcome, {name}": "Velkommen, {name}",
    "Caseworker": "Sagsbehandler",
    "Look up a citizen": "Slå en borger op",
    "everything the citizen's consents let {department} see, from every department, on one "
    "page.":
        "alt, hvad borgerens samtykker giver {department} adgang til, fra alle afdelinger, på "
        "én side.",
    "find a citizen's consents, record a new one with a preview of what it opens, extend or "
    "withdraw one.":
        "find en borgers samtykker, registrér et nyt med et overblik over, hvad det åbner, "
        "forlæng eller tilbagekald et.",
    "Data protection": "Databeskyttelse",
    "Read the access log": "Læs adgangsloggen",
    "See what stands out": "Se, hvad der skiller sig ud",
    "Make a citizen's insight report, or export the log":
        "Lav en borgers indsigtsrapport, eller eksportér loggen",
    "Verify that the log is complete and unaltered":
        "Verificér, at loggen er fuldstændig og uændret",
    "Operations": "Drift",
    "Gateway": "Gateway",
    "Sources configured": "Opsatte kilder",
    "See the department systems": "Se afdelingernes systemer",
    "health now, breaker, latency and errors, and a check of each.":
        "tilstand nu, afbryder, svartider og fejl, og et tjek af hvert system.",
    "See your consents": "Se dine samtykker",
    "what you have agreed to share, how often it has been used, a receipt you can keep, and "
    "withdrawal with one click.":
        "hvad du har sagt ja til at dele, hvor ofte det er brugt, en kvittering du kan gemme, og "
        "tilbagekaldelse med ét klik.",
    "See who has used your data": "Se, hvem der har brugt dine oplysninger",
    "every time, the date, the purpose and the department.":
        "hver gang, dato, formål og afdeling.",
    "Your account has no role in Helhed.": "Din konto har ingen rolle i Helhed.",
    "Joint overview": "Fælles overblik",
    "For the meeting with {cpr} · {purpose} · made {when} by {who}, {department}.":
        "Til mødet med {cpr} · {purpose} · lavet {when} af {who}, {department}.",
    "Only what the citizen's consents let {department} see. Access-log entry {entry}.":
        "Kun det, borgerens samtykker giver {department} adgang til. Post {entry} i "
        "adgangsloggen.",
    "What the department does": "Hvad afdelingen gør",
    "Nothing shown.": "Intet vist.",
    "Goals": "Mål",
    "Contacts": "Kontaktpersoner",
    "phone": "telefon",
    "To talk about": "Til drøftelse",
    "Not included, because no consent covers them: {departments}.":
        "Ikke med, fordi intet samtykke dækker dem: {departments}.",
    "What you have agreed that the municipality's departments may share about you, and how "
    "often it has been used. You can withdraw a consent at any time; it stops the very next "
    "time anyone looks. What was shared before stays lawful.":
        "Hvad du har sagt ja til, at kommunens afdelinger må dele om dig, og hvor ofte det er "
        "brugt. Du kan altid trække et samtykke tilbage; det stopper allerede ved næste opslag. "
        "Det, der er delt før, var stadig lovligt.",
    "You have no consents recorded.": "Der er ikke registreret samtykker fra dig.",
    "{recipients} may see {what} from {sources}, from {start} to {end}.":
        "{recipients} må se {what} fra {sources}, fra {start} til {end}.",
    "For your case {case}.": "Til din sag {case}.",
    "Given by {name} on your behalf.": "Givet af {name} på dine vegne.",
    "Given by you.": "Givet af dig.",
    "Used {n} times, last on {day}.": "Brugt {n} gange, senest {day}.",
    "Used once, on {day}.": "Brugt én gang, {day}.",
    "Not used yet.": "Ikke brugt endnu.",
    "signed; anyone can check it": "signeret; alle kan kontrollere den",
    "Withdrawn by the citizen": "Tilbagekaldt af borgeren",
    "Withdraw this consent": "Tilbagekald dette samtykke",
    "Reports from the access log": "Rapporter fra adgangsloggen",
    "A citizen's insight report": "En borgers indsigtsrapport",
    "For a request under GDPR art. 15: every time the citizen's data was used, with the date, "
    "the purpose and the department, ready to print and send. Employees' names are left out "
    "unless you ask for them.":
        "Til en anmodning efter GDPR art. 15: hver gang borgerens oplysninger er brugt, med "
        "dato, formål og afdeling, klar til at udskrive og sende. Medarbejdernes navne er "
        "udeladt, medmindre du beder om dem.",
    "Name the employees": "Nævn medarbejderne",
    "Make the report": "Lav rapporten",
    "Export the log": "Eksportér loggen",
    "Oldest first, with the filters you give. The export itself is logged.":
        "Ældste først, med de filtre, du vælger. Selve eksporten logges.",
    "Format": "Format",
    "Download": "Hent",
    "Sign in": "Log ind",
    "Helhed shows a caseworker what a citizen has agreed to share between departments, and "
    "logs every access.":
        "Helhed viser en sagsbehandler, hvad en borger har sagt ja til at dele mellem "
        "afdelinger, og logger hvert opslag.",
    "No identity provider is configured for the web pages. The API still takes bearer tokens.":
        "Der er ikke opsat et login til siderne. API'et tager stadig adgangstokens.",
    "Department systems": "Afdelingernes systemer",
    "Check of {source}": "Tjek af {source}",
    "No problems: connected, {detail}.": "Ingen problemer: forbundet, {detail}.",
    "The citizen's records: {n}, every one mapped.": "Borgerens poster: {n}, alle oversat.",
    "{n} problem(s):": "{n} problem(er):",
    "Where": "Hvor",
    "Code": "Kode",
    "Problem": "Problem",
    "Mapped records": "Oversatte poster",
    "This check read a citizen's records: access-log entry {n}.":
        "Tjekket læste en borgers poster: post {n} i adgangsloggen.",
    "Health is asked now; breaker, latency and errors are what this gateway process has seen.":
        "Tilstanden spørges nu; afbryder, svartider og fejl er, hvad denne gateway-proces har "
        "set.",
    "Health": "Tilstand",
    "The scheduled check is the last one any gateway instance ran: the same on every instance.":
        "Det planlagte tjek er det seneste, en gateway-instans kørte: det samme på alle "
        "instanser.",
    "Scheduled check": "Planlagt tjek",
    "not yet": "endnu ikke",
    "Breaker": "Afbryder",
    "Latency p50 / p99": "Svartid p50 / p99",
    "Calls (failed)": "Kald (fejlede)",
    "Last success": "Seneste succes",
    "Last error": "Seneste fejl",
    "Check": "Tjek",
    "up": "oppe",
    "down": "nede",
    "export of {date}: {imported} of {rows} rows": "udtræk fra {date}: {imported} af {rows} rækker",
    "Test citizen's CPR (optional)": "Testborgers CPR (valgfrit)",
    "Check now": "Tjek nu",
    "Verify the access log": "Verificér adgangsloggen",
    "The log is complete and unaltered: {n} entries, {c} signed checkpoints checked.":
        "Loggen er fuldstændig og uændret: {n} poster, {c} signerede kontrolpunkter tjekket.",
    "Tree head": "Træets rod",
    "Verification FAILED at entry {n}: {reason} ({total} entries stored).":
        "Verifikationen FEJLEDE ved post {n}: {reason} ({total} poster gemt).",
    "Verify again": "Verificér igen",
    "Back to the access log": "Tilbage til adgangsloggen",
}

# Words for slugs, per vocabulary; configured names (departments, categories, purposes,
# support groups, facts) come from the configuration instead.
DANISH_WORDS: dict[str, dict[str, str]] = {
    "coverage": {"included": "Med", "not-covered": "Ikke dækket af et samtykke",
                 "unavailable": "Kunne ikke hentes"},
    "kind": {"case": "Sag", "benefit": "Ydelse", "intervention": "Indsats", "plan": "Plan",
             "goal": "Mål", "contact": "Kontakt", "note": "Notat",
             "document-reference": "Dokument"},
    "status": {"active": "Aktiv", "planned": "Planlagt", "ended": "Afsluttet"},
    "consent-status": {"active": "Aktivt", "withdrawn": "Tilbagekaldt", "expired": "Udløbet",
                       "superseded": "Erstattet af en ny version",
                       "entered-in-error": "Registreret ved en fejl"},
    "consent-event": {"recorded": "Samtykket er registreret", "withdrawn":
                      "Samtykket er tilbagekaldt", "extended": "Samtykket er forlænget"},
    "given-by": {"self": "borgeren selv", "guardian": "forælder eller værge",
                 "representative": "en repræsentant"},
    "evidence": {"signed-form": "underskrevet blanket", "digital-signature": "digital signatur",
                 "verbal-noted": "mundtligt, noteret"},
    "per": {"day": "pr. døgn", "week": "pr. uge", "month": "pr. måned", "quarter": "pr. kvartal",
            "year": "pr. år"},
    "direction": {"better": "bedre", "worse": "dårligere", "unchanged": "uændret"},
    "role": {"caseworker": "sagsbehandler", "dpo": "databeskyttelsesrådgiver",
             "itops": "IT-drift", "citizen": "borger"},
    "outcome": {"success": "gennemført", "denied": "afvist", "failed": "fejlet"},
    "action": {
        "view": "Borgeroverblik", "consent.record": "Samtykke registreret",
        "consent.read": "Samtykke læst", "consent.search": "Samtykker søgt",
        "consent.withdraw": "Samtykke tilbagekaldt", "consent.version": "Samtykke ændret",
        "consent.expire": "Samtykke udløbet",
        "consent.entered-in-error": "Samtykke markeret som fejl",
        "consent.preview": "Samtykke forhåndsvist", "consent.receipt": "Kvittering hentet",
        "audit.query": "Log læst", "audit.verify": "Log verificeret", "sign-in": "Log ind",
        "sign-out": "Log ud", "view.burst": "Mange borgere på kort tid",
        "sources.read": "Kilder læst", "source.check": "Kilde tjekket",
        "audit.proof": "Bevis hentet", "audit.export": "Log eksporteret",
        "audit.report": "Indsigtsrapport", "audit.retention": "Sletning efter opbevaringsfrist",
    },
    "anomaly": {"many-citizens": "Mange borgere på én dag",
                "outside-working-hours": "Opslag uden for arbejdstid",
                "no-own-case": "Opslag uden egen sag", "repeated-denials": "Afvist igen og igen",
                "real-citizen-checked": "Et kildetjek nævnte en rigtig borger"},
    "export-format": {"jsonl": "JSON-linjer", "csv": "CSV (regneark)",
                      "fhir": "FHIR AuditEvent-bundt"},
    "problem": {"timeout": "svarede ikke i tide", "unreachable": "kunne ikke nås",
                "circuit_open": "midlertidigt afbrudt efter fejl",
                "not_imported": "intet udtræk indlæst endnu", "auth_failed": "login afvist",
                "adapter_error": "fejl i forbindelsen"},
    "breaker": {"closed": "lukket (normal)", "open": "åben (afbrudt)",
                "half-open": "halvåben (prøver igen)"},
    "source-kind": {"rest_json": "REST/JSON", "soap_xml": "SOAP/XML", "sql": "SQL-database",
                    "csv_drop": "CSV-udtræk"},
    "readiness": {"ready": "klar", "not ready": "ikke klar"},
    "closed": {"withdrawn": "Samtykket er tilbagekaldt for",
               "expired": "Samtykket er udløbet for",
               "not-yet-valid": "Samtykket gælder endnu ikke for"},
    "reason": {"csrf_token_invalid": "formularen var forældet", "forbidden": "ingen adgang",
               "invalid_cpr": "ugyldigt CPR-nummer", "not_signed_in": "ikke logget ind"},
}

ENGLISH_WORDS: dict[str, dict[str, str]] = {
    "coverage": {"included": "Included", "not-covered": "Not covered by a consent",
                 "unavailable": "Could not be fetched"},
    "kind": {"case": "Case", "benefit": "Benefit", "intervention": "Intervention",
             "plan": "Plan", "goal": "Goal", "contact": "Contact", "note": "Note",
             "document-reference": "Document"},
    "status": {"active": "Active", "planned": "Planned", "ended": "Ended"},
    "consent-status": {"active": "Active", "withdrawn": "Withdrawn", "expired": "Expired",
                       "superseded": "Superseded by a new version",
                       "entered-in-error": "Entered in error"},
    "consent-event": {"recorded": "Consent recorded", "withdrawn": "Consent withdrawn",
                      "extended": "Consent extended"},
    "given-by": {"self": "the citizen", "guardian": "a parent or guardian",
                 "representative": "a representative"},
    "evidence": {"signed-form": "signed form", "digital-signature": "digital signature",
                 "verbal-noted": "verbal, noted"},
    "per": {"day": "a day", "week": "a week", "month": "a month", "quarter": "a quarter",
            "year": "a year"},
    "direction": {"better": "better", "worse": "worse", "unchanged": "unchanged"},
    "role": {"caseworker": "caseworker", "dpo": "data protection officer",
             "itops": "IT operations", "citizen": "citizen"},
    "outcome": {"success": "done", "denied": "refused", "failed": "failed"},
    "action": {
        "view": "Citizen view", "consent.record": "Consent recorded",
        "consent.read": "Consent read", "consent.search": "Consents searched",
        "consent.withdraw": "Consent withdrawn", "consent.version": "Consent changed",
        "consent.expire": "Consent expired",
        "consent.entered-in-error": "Consent marked as entered in error",
        "consent.preview": "Consent previewed", "consent.receipt": "Receipt fetched",
        "audit.query": "Log read", "audit.verify": "Log verified", "sign-in": "Sign-in",
        "sign-out": "Sign-out", "view.burst": "Many citizens in a short time",
        "sources.read": "Sources read", "source.check": "Source checked",
        "audit.proof": "Proof fetched", "audit.export": "Log exported",
        "audit.report": "Insight report", "audit.retention": "Retention purge",
    },
    "anomaly": {"many-citizens": "Many citizens in one day",
                "outside-working-hours": "Views outside working hours",
                "no-own-case": "Views without an own case",
                "repeated-denials": "Refused again and again",
                "real-citizen-checked": "A source check named a real citizen"},
    "export-format": {"jsonl": "JSON lines", "csv": "CSV (spreadsheet)",
                      "fhir": "FHIR AuditEvent bundle"},
    "problem": {"timeout": "did not answer in time", "unreachable": "could not be reached",
                "circuit_open": "paused after failures",
                "not_imported": "no export imported yet", "auth_failed": "sign-in refused",
                "adapter_error": "connection error"},
    "breaker": {"closed": "closed (normal)", "open": "open (paused)",
                "half-open": "half-open (trying again)"},
    "source-kind": {"rest_json": "REST/JSON", "soap_xml": "SOAP/XML", "sql": "SQL database",
                    "csv_drop": "CSV export"},
    "readiness": {"ready": "ready", "not ready": "not ready"},
    "closed": {"withdrawn": "The consent was withdrawn for",
               "expired": "The consent has expired for",
               "not-yet-valid": "The consent is not yet valid for"},
    "reason": {"csrf_token_invalid": "the form was stale", "forbidden": "not allowed",
               "invalid_cpr": "invalid CPR number", "not_signed_in": "not signed in"},
}

# A refusal's reason in Danish, by its code (the API's English detail otherwise).
DANISH_PROBLEMS: dict[str, str] = {
    "invalid_cpr": "CPR-nummeret er ikke gyldigt: ti cifre, en mulig fødselsdato.",
    "missing": "{where}: skal udfyldes.",
    "empty_list": "{where}: vælg mindst én.",
    "case_ref_required": "Formålet gælder én sag: angiv sagen (journalnummer).",
    "unknown_purpose": "Formålet kendes ikke.",
    "given_by_name_required": "Et samtykke givet af en anden skal nævne personen.",
    "invalid_validity": "Slutdatoen ligger før startdatoen.",
    "invalid_data_period": "Perioden er ikke gyldig.",
    "validity_too_long": "Samtykket gælder længere, end formålet tillader.",
    "forbidden": "Din rolle giver ikke adgang til dette.",
    "csrf_token_invalid": "Formularen er forældet eller ikke fra Helhed. Prøv igen.",
    "not_found": "Siden findes ikke.",
    "rate_limited": "For mange opslag på kort tid. Vent lidt.",
    "date_from_datetime_parsing": "{where}: ikke en dato.",
    "date_parsing": "{where}: ikke en dato.",
}
# fmt: on
