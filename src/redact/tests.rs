use std::collections::HashSet;

use super::context::parse_value;
use super::corpus::Rng;
use super::entropy::looks_random;
use super::keys::{secret_key_kind, segments, value_is_secret};
use super::*;

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";

fn alnum() -> String {
    format!("{UPPER}{LOWER}{DIGITS}")
}
fn b64() -> String {
    format!("{UPPER}{LOWER}{DIGITS}+/")
}
fn b64url() -> String {
    format!("{UPPER}{LOWER}{DIGITS}-_")
}
fn upper_digits() -> String {
    format!("{UPPER}{DIGITS}")
}

/// A fake secret over `alphabet` (see [`corpus::fake`]): the source never
/// holds a contiguous token that a secret scanner could flag.
fn fake(seed: u64, alphabet: &str, len: usize) -> String {
    corpus::fake_over(seed, alphabet.as_bytes(), len)
}

struct Case {
    name: &'static str,
    kind: &'static str,
    text: String,
    secrets: Vec<String>,
}

fn case(name: &'static str, kind: &'static str, template: &str, secrets: Vec<String>) -> Case {
    let mut text = template.to_owned();
    for (i, s) in secrets.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), s);
    }
    assert!(!text.contains("{0}"), "{name}: unfilled template");
    Case {
        name,
        kind,
        text,
        secrets,
    }
}

fn secret_cases() -> Vec<Case> {
    let b64 = b64();
    let b64url = b64url();
    let alnum = alnum();
    let ud = upper_digits();
    let pem_lines = |seed: u64, n: usize| -> Vec<String> {
        (0..n).map(|i| fake(seed + i as u64, &b64, 64)).collect()
    };
    let jwt = |seed: u64| -> (String, Vec<String>) {
        let payload = format!("eyJ{}", fake(seed, &b64url, 40));
        let sig = fake(seed + 1, &b64url, 43);
        let header = format!("{}{}", "eyJhbGciOiJIUzI1NiIs", "InR5cCI6IkpXVCJ9");
        (format!("{header}.{payload}.{sig}"), vec![payload, sig])
    };
    let (jwt1, jwt1_parts) = jwt(900);
    let slack_path = format!(
        "T{}/B{}/{}",
        fake(31, &ud, 8),
        fake(32, &ud, 10),
        fake(33, &alnum, 24)
    );

    vec![
        case(
            "pem-rsa",
            "private-key",
            "$ cat ~/.ssh/id_rsa\n-----BEGIN RSA PRIVATE KEY-----\n{0}\n{1}\n{2}\n-----END RSA PRIVATE KEY-----\n$ ls -la ~/.ssh\n",
            pem_lines(1, 3),
        ),
        case(
            "pem-openssh-read-tool",
            "private-key",
            "Read(~/.ssh/id_ed25519)\n     1\t-----BEGIN OPENSSH PRIVATE KEY-----\n     2\t{0}\n     3\t{1}\n     4\t-----END OPENSSH PRIVATE KEY-----\n",
            pem_lines(10, 2),
        ),
        case(
            "pem-ec-yaml",
            "private-key",
            "tls:\n  cert: /etc/ssl/app.crt\n  key: |\n    -----BEGIN EC PRIVATE KEY-----\n    {0}\n    {1}\n    -----END EC PRIVATE KEY-----\n  port: 443\n",
            pem_lines(20, 2),
        ),
        case(
            "pem-pkcs8-gcp-service-account",
            "private-key",
            r#"{"type": "service_account", "project_id": "acme-prod", "private_key_id": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c", "private_key": "-----BEGIN PRIVATE KEY-----\n{0}\n{1}\n{2}\n-----END PRIVATE KEY-----\n", "client_email": "deploy@acme-prod.iam.gserviceaccount.com"}"#,
            pem_lines(30, 3),
        ),
        case(
            "pem-encrypted-double-escaped",
            "private-key",
            r#"{"type":"tool_result","content":"{\"key\":\"-----BEGIN ENCRYPTED PRIVATE KEY-----\\n{0}\\n{1}\\n-----END ENCRYPTED PRIVATE KEY-----\\n\"}"}"#,
            pem_lines(40, 2),
        ),
        case(
            "pem-rsa-proc-type-headers",
            "private-key",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,{0}\n\n{1}\n{2}\n-----END RSA PRIVATE KEY-----\n",
            vec![
                fake(50, "0123456789ABCDEF", 32),
                fake(51, &b64, 64),
                fake(52, &b64, 64),
            ],
        ),
        case(
            "pem-truncated",
            "private-key",
            "$ head -c 200 deploy.pem\n-----BEGIN PRIVATE KEY-----\n{0}\n{1}\n$ echo done\n",
            pem_lines(60, 2),
        ),
        case(
            "aws-sts-assume-role-json",
            "aws-key",
            r#"{"Credentials": {"AccessKeyId": "{0}", "SecretAccessKey": "{1}", "SessionToken": "{2}", "Expiration": "2024-05-01T12:00:00Z"}}"#,
            vec![
                format!("ASIA{}", fake(70, &ud, 16)),
                fake(71, &b64, 40),
                fake(72, &b64, 120),
            ],
        ),
        case(
            "aws-credentials-ini",
            "aws-secret",
            "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\nregion = eu-central-1\n",
            vec![format!("AKIA{}", fake(80, &ud, 16)), fake(81, &b64, 40)],
        ),
        case(
            "aws-secret-near-words",
            "high-entropy",
            "The secret access key for the deploy user is {0} (rotate it after the migration).",
            vec![fake(90, &b64, 40)],
        ),
        case(
            "gcp-api-key-in-url",
            "gcp-api-key",
            r#"curl "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={0}""#,
            vec![format!("AIza{}", fake(100, &b64url, 35))],
        ),
        case(
            "azure-storage-connection-string",
            "azure-key",
            r#"AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={0};EndpointSuffix=core.windows.net""#,
            vec![format!("{}==", fake(110, &b64, 86))],
        ),
        case(
            "azure-sas-token",
            "sas-token",
            r#"az storage blob upload --account-name acmestore --sas-token "?sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2025-01-01T00:00:00Z&spr=https&sig={0}" --file backup.zip"#,
            vec![format!(
                "{}%2B{}%3D",
                fake(120, &alnum, 20),
                fake(121, &alnum, 20)
            )],
        ),
        case(
            "azure-client-secret-shape",
            "azure-client-secret",
            "App registration created. Secret value (copy it now, it is shown once): {0}\n",
            vec![format!(
                "{}8Q~{}",
                fake(130, &alnum, 3),
                fake(131, &format!("{alnum}~.-_"), 34)
            )],
        ),
        case(
            "oauth-client-secret-json",
            "client-secret",
            r#"{"client_id": "3f0c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", "client_secret": "{0}", "grant_type": "client_credentials"}"#,
            vec![fake(140, &b64url, 40)],
        ),
        case(
            "github-pat-classic-env",
            "github-token",
            "export GITHUB_TOKEN={0}\ngh repo list acme",
            vec![format!("ghp_{}", fake(150, &alnum, 36))],
        ),
        case(
            "github-fine-grained-remote",
            "github-token",
            "git remote set-url origin https://{0}@github.com/acme/app.git",
            vec![format!(
                "github_pat_{}_{}",
                fake(160, &alnum, 22),
                fake(161, &alnum, 59)
            )],
        ),
        case(
            "github-oauth-gh-auth-token",
            "github-token",
            "$ gh auth token\n{0}\n$ ",
            vec![format!("gho_{}", fake(170, &alnum, 36))],
        ),
        case(
            "github-app-token-in-url",
            "github-token",
            "Cloning into 'app'...\nfatal: unable to access 'https://x-access-token:{0}@github.com/acme/app.git/': 403",
            vec![format!("ghs_{}", fake(180, &alnum, 36))],
        ),
        case(
            "gitlab-pat-clone",
            "gitlab-token",
            "git clone https://oauth2:{0}@gitlab.com/acme/infra.git",
            vec![format!("glpat-{}", fake(190, &b64url, 20))],
        ),
        case(
            "slack-bot-token-python",
            "slack-token",
            r#"client = WebClient(token="{0}")"#,
            vec![format!(
                "xoxb-{}-{}-{}",
                fake(200, DIGITS, 12),
                fake(201, DIGITS, 13),
                fake(202, &alnum, 24)
            )],
        ),
        case(
            "slack-app-token-yaml",
            "slack-token",
            "slack:\n  SLACK_APP_TOKEN: {0}\n  channel: '#ops'\n",
            vec![format!(
                "xapp-1-{}-{}-{}",
                fake(210, &ud, 11),
                fake(211, DIGITS, 13),
                fake(212, HEX, 64)
            )],
        ),
        case(
            "slack-webhook",
            "slack-webhook",
            r#"curl -X POST -H 'Content-type: application/json' --data '{"text":"deploy done"}' https://hooks.slack.com/services/{0}"#,
            vec![slack_path],
        ),
        case(
            "stripe-live-secret",
            "stripe-key",
            "STRIPE_SECRET_KEY={0}\nSTRIPE_PUBLISHABLE_KEY=pk_live_placeholder",
            vec![format!("sk_live_{}", fake(220, &alnum, 24))],
        ),
        case(
            "stripe-restricted",
            "stripe-key",
            r#"{"restricted_key": "{0}", "livemode": true}"#,
            vec![format!("rk_live_{}", fake(230, &alnum, 24))],
        ),
        case(
            "stripe-test-python",
            "stripe-key",
            "import stripe\nstripe.api_key = \"{0}\"\n",
            vec![format!("sk_test_{}", fake(240, &alnum, 24))],
        ),
        case(
            "openai-project-key",
            "openai-key",
            "OPENAI_API_KEY={0} python summarize.py",
            vec![format!("sk-proj-{}", fake(250, &b64url, 120))],
        ),
        case(
            "anthropic-key",
            "anthropic-key",
            "export ANTHROPIC_API_KEY=\"{0}\"\nclaude --version",
            vec![format!(
                "{}{}{}AA",
                "sk-ant-",
                "api03-",
                fake(260, &b64url, 93)
            )],
        ),
        case(
            "npm-token-npmrc",
            "npm-token",
            "//registry.npmjs.org/:_authToken={0}\nalways-auth=true\n",
            vec![format!("npm_{}", fake(270, &alnum, 36))],
        ),
        case(
            "sendgrid",
            "sendgrid-key",
            "SENDGRID_API_KEY='{0}'",
            vec![format!(
                "SG.{}.{}",
                fake(280, &b64url, 22),
                fake(281, &b64url, 43)
            )],
        ),
        case(
            "twilio-env",
            "twilio-key",
            "TWILIO_API_KEY={0}\nTWILIO_AUTH_TOKEN={1}\n",
            vec![format!("SK{}", fake(290, HEX, 32)), fake(291, HEX, 32)],
        ),
        case(
            "jwt-log-line",
            "jwt",
            &format!("2024-05-01T12:00:00Z DEBUG session restored from cookie {jwt1} (user 42)"),
            jwt1_parts,
        ),
        case(
            "bearer-curl",
            "bearer-token",
            r#"curl -s -H "Authorization: Bearer {0}" https://api.example.com/v1/me"#,
            vec![fake(300, &alnum, 40)],
        ),
        case(
            "basic-auth-header",
            "basic-auth",
            "GET /api/v1/status HTTP/1.1\r\nHost: intranet.acme.local\r\nAuthorization: Basic {0}\r\nAccept: */*\r\n",
            vec![format!("{}==", fake(310, &b64, 26))],
        ),
        case(
            "password-assignment-shell",
            "password",
            "DB_HOST=db.internal password=hunter2secret ./migrate.sh",
            vec!["hunter2secret".to_owned()],
        ),
        case(
            "passwd-yaml",
            "password",
            "smtp:\n  host: mail.acme.io\n  user: mailer\n  passwd: {0}\n",
            vec![fake(320, &alnum, 14)],
        ),
        case(
            "pwd-odbc",
            "password",
            "Driver={ODBC Driver 18 for SQL Server};Server=tcp:sql01,1433;Uid=sa;Pwd={0};Encrypt=yes;",
            vec![format!("{}!x", fake(330, &alnum, 12))],
        ),
        case(
            "password-json",
            "password",
            r#"{"username": "admin", "password": "{0}", "remember": true}"#,
            vec![format!("{} {}", fake(340, &alnum, 8), fake(341, &alnum, 6))],
        ),
        case(
            "secret-assignment-cli",
            "secret",
            "./deploy --env prod secret={0} --verbose",
            vec![fake(350, &alnum, 18)],
        ),
        case(
            "api-key-python",
            "api-key",
            "api_key = \"{0}\"\nclient = Client(api_key=api_key)",
            vec![fake(360, &alnum, 32)],
        ),
        case(
            "token-query-param",
            "token",
            "Open https://example.com/reset?token={0}&user=42 to continue.",
            vec![fake(370, &alnum, 24)],
        ),
        case(
            "client-secret-yaml",
            "client-secret",
            "oauth:\n  client_id: acme-portal\n  client_secret: {0}\n",
            vec![fake(380, &b64url, 32)],
        ),
        case(
            "powershell-securestring",
            "password",
            r#"$secure = ConvertTo-SecureString "{0}" -AsPlainText -Force"#,
            vec![format!("Winter{}!", fake(390, DIGITS, 4))],
        ),
        case(
            "powershell-pscredential",
            "password",
            r#"$cred = New-Object System.Management.Automation.PSCredential("ACME\svc", (ConvertTo-SecureString -String '{0}' -AsPlainText -Force))"#,
            vec![format!("Sv{}#q", fake(391, &alnum, 10))],
        ),
        case(
            "net-user-add",
            "password",
            r"PS C:\> net user svc_backup {0} /add /y",
            vec![format!("Bk{}$", fake(400, &alnum, 10))],
        ),
        case(
            "net-use-share",
            "password",
            r"C:\> net use Z: \\fs01\finance {0} /user:ACME\jdoe /persistent:no",
            vec![format!("Fin{}", fake(401, &alnum, 9))],
        ),
        case(
            "mysql-p",
            "password",
            "mysql -h db.internal -u root -p{0} acme_prod < dump.sql",
            vec![fake(410, &alnum, 12)],
        ),
        case(
            "sshpass",
            "password",
            "sshpass -p '{0}' ssh deploy@web01.acme.local 'uptime'",
            vec![fake(420, &alnum, 12)],
        ),
        case(
            "postgres-url",
            "url-credentials",
            "DATABASE_URL=postgres://admin:S3cr3t!xyz@db.example.com:5432/app",
            vec!["S3cr3t!xyz".to_owned()],
        ),
        case(
            "mongodb-srv-url",
            "url-credentials",
            "mongodb+srv://appuser:{0}@cluster0.abcde.mongodb.net/?retryWrites=true&w=majority",
            vec![fake(430, &alnum, 16)],
        ),
        case(
            "redis-url-no-user",
            "url-credentials",
            "REDIS_URL=redis://:{0}@cache.internal:6379/0",
            vec![fake(440, &alnum, 20)],
        ),
        case(
            "sqlserver-connection-string",
            "password",
            r#""ConnectionStrings": { "Default": "Server=sql01;Database=Acme;User Id=sa;Password={0};TrustServerCertificate=True" }"#,
            vec![format!("{} {}", fake(450, &alnum, 6), fake(451, &alnum, 6))],
        ),
        case(
            "entropy-near-key",
            "high-entropy",
            "Here is the signing key you asked for: {0} -- store it in the vault.",
            vec![fake(460, &b64, 44)],
        ),
        case(
            "entropy-near-token-prose",
            "high-entropy",
            "The webhook token shown in the dashboard was {0}.",
            vec![fake(461, &alnum, 32)],
        ),
        case(
            "json-escaped-transcript",
            "password",
            r#"{"type":"tool_result","content":"{\"db\": {\"host\": \"db1\", \"password\": \"{0}\"}}"}"#,
            vec![fake(470, &alnum, 16)],
        ),
        case(
            "docker-config-auth",
            "auth",
            r#"{"auths": {"registry.acme.io": {"auth": "{0}"}}}"#,
            vec![format!("{}=", fake(480, &b64, 31))],
        ),
        case(
            "unattend-xml",
            "password",
            "<AdministratorPassword>\n  <Value>{0}</Value>\n  <PlainText>false</PlainText>\n</AdministratorPassword>",
            vec![format!("{}==", fake(490, &b64, 30))],
        ),
        case(
            "dotnet-appsettings",
            "password",
            r#"<appSettings><add key="SmtpPassword" value="{0}" /></appSettings>"#,
            vec![fake(500, &alnum, 14)],
        ),
        case(
            "curl-user-pass",
            "password",
            "curl -u admin:{0} https://jenkins.acme.io/api/json",
            vec![fake(510, &alnum, 14)],
        ),
        case(
            "password-flag-space",
            "password",
            "docker login registry.acme.io --username ci --password {0}",
            vec![fake(520, &alnum, 20)],
        ),
        case(
            "google-oauth-bearer",
            "google-oauth-token",
            "Authorization: Bearer ya29.{0}",
            vec![fake(530, &b64url, 80)],
        ),
        case(
            "huggingface",
            "huggingface-token",
            "huggingface-cli login --token hf_{0}",
            vec![fake(540, &alnum, 34)],
        ),
        case(
            "authorization-token-scheme",
            "github-token",
            r#"curl -H "Authorization: token {0}" https://api.github.com/user"#,
            vec![format!("ghp_{}", fake(550, &alnum, 36))],
        ),
        case(
            "ssh-keygen-passphrase",
            "password",
            "ssh-keygen -t ed25519 -N '{0}' -f ~/.ssh/id_ed25519",
            vec![fake(560, &alnum, 16)],
        ),
        case(
            "pgpassword-env",
            "password",
            "PGPASSWORD={0} psql -h db.internal -U app -c 'select 1'",
            vec![fake(570, &alnum, 16)],
        ),
        case(
            "k8s-secret-data",
            "password",
            "apiVersion: v1\nkind: Secret\ndata:\n  username: YWRtaW4=\n  password: {0}\n",
            vec![format!("{}==", fake(580, &b64, 22))],
        ),
        case(
            "rails-secret-key-base",
            "secret",
            "SECRET_KEY_BASE={0}\nRAILS_ENV=production",
            vec![fake(590, HEX, 128)],
        ),
        case(
            "django-secret-key",
            "secret",
            "SECRET_KEY = 'django-insecure-{0}'",
            vec![fake(600, &format!("{alnum}!@#%^*-_"), 50)],
        ),
        case(
            "gcp-oauth-client-json",
            "gcp-client-secret",
            r#"{"installed":{"client_id":"1234567890-abc.apps.googleusercontent.com","client_secret":"{0}"}}"#,
            vec![format!("GOCSPX-{}", fake(610, &b64url, 28))],
        ),
        case(
            "pypirc",
            "pypi-token",
            "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc{0}\n",
            vec![fake(620, &b64url, 70)],
        ),
        case(
            "ruby-symbol-hash",
            "password",
            "ActiveRecord::Base.establish_connection(:adapter => 'mysql2', :password => '{0}')",
            vec![fake(650, &alnum, 14)],
        ),
        case(
            "net-user-in-json-tool-input",
            "password",
            r#"{"name":"Bash","input":{"command":"net user jdoe {0} /add"}}"#,
            vec![format!("Jd{}!", fake(651, &alnum, 10))],
        ),
        case(
            "hex-api-key-near-words",
            "high-entropy",
            "api key for staging: {0}",
            vec![fake(640, HEX, 32)],
        ),
        case(
            "xml-password-element",
            "password",
            "<connection><user>svc</user><password>{0}</password></connection>",
            vec![fake(630, &alnum, 14)],
        ),
    ]
}

/// Texts that must come out byte-for-byte unchanged.
const ORDINARY: &[&str] = &[
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nAuthor: Jane Doe <jane@example.com>\nDate:   Mon Apr 1 10:00:00 2024 +0200\n\n    Fix token refresh race in session store\n\ncommit e83c5163316f89bfbde7d9ab23ca2e25604af290\nMerge: 1a2b3c4 5d6e7f8\n",
    "a1b2c3d Rotate API keys before release\n9f8e7d6 Add password reset flow\n0c1d2e3 Bump regex to 1.13.1\n",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  secret-backup.tar.gz\nChecksum of the signing key: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
    r#"{"session_id": "123e4567-e89b-12d3-a456-426614174000", "request_id": "c9a1f1d2-8b3e-4f5a-9c6d-7e8f9a0b1c2d"}"#,
    "Edited /home/u/project/src/main.rs and /home/u/project/src/memory/redact.rs (+120 -4)",
    r"PS C:\Users\jdoe\Documents> Get-Content C:\Users\jdoe\file.txt",
    "See https://docs.rs/regex/latest/regex/struct.Regex.html?search=captures&page=2#method.captures and http://localhost:8080/api/v1/items?sort=name",
    "rustc 1.95.0 (f2d3ce0bd 2026-03-21)\n   Compiling regex v1.13.1\n   Compiling serde v1.0.219\nnode v20.11.1, release 1.0.0-beta.1+build.5",
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
    "Reset the password for the user in the admin console, then ask them to choose a new password at next login.",
    "vault-agent --password-file /run/secrets/db_password\npgbouncer --password-file=/run/secrets/db",
    "export AWS_SECRET_ACCESS_KEY\necho $DB_PASSWORD\nDB_PASSWORD=$DB_PASSWORD ./run.sh\npsql \"password=${PGPASS}\"",
    "pub struct Config {\n    pub password: String,\n    pub api_token: Option<String>,\n}\nfn login(user: &str, password: &str) -> Result<Token, AuthError> {\n    let token = client.authenticate(user, password)?;\n",
    "def connect(user, password):\n    return psycopg.connect(host=HOST, user=user, password=password, sslmode=\"require\")\n",
    r#"{"usage":{"input_tokens":1234,"cache_creation_input_tokens":0,"cache_read_input_tokens":5678,"output_tokens":910},"max_tokens":4096}"#,
    "docker run -u 1000:1000 -p 8080:80 -v /srv/data:/data nginx:1.25-alpine",
    "Use a personal access token with the `repo` scope. Rotate keys every 90 days; never commit secrets to git.",
    "PWD=/home/u/project\nOLDPWD=/home/u\nHOME=/home/u\nSHELL=/bin/bash\n",
    "interface Login {\n  password?: string;\n  token: string;\n}\nconst headers = { Authorization: `Bearer ${token}` };",
    "env:\n  GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
    r#"{"password": {"type": "string", "minLength": 12}, "token_type": "Bearer"}"#,
    "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db-secret\n      key: password\n",
    "-rw-------  1 u u  411 Apr  1 10:00 id_ed25519\n-rw-r--r--  1 u u   97 Apr  1 10:00 id_ed25519.pub\n",
    "The API uses bearer tokens; send them in the Authorization header.",
    "const apiKeyHeaderName = \"X-Api-Key\"; const keyRotationIntervalMilliseconds = 86400000;",
    "Password: required (min 12 chars)\nToken: none",
    r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"Bash","input":{"command":"cargo test --release","description":"Run tests"}}]},"uuid":"4c1e5a8b-2f3d-4e6a-9b7c-8d0e1f2a3b4c"}"#,
    "if line.starts_with(\"-----BEGIN RSA PRIVATE KEY-----\") { return Kind::Pem; }",
    "match kind { Kind::Password => \"password\", Kind::Token => \"token\" }",
    "mysql -u root -p acme_prod\nsshpass -f ~/.pw ssh host\nnet user jdoe /domain\nnet user administrator *",
    "SELECT id, name FROM users WHERE password_hash IS NULL; -- keys: id, name",
    "https://github.com/acme/app/blob/main/src/auth/token.rs#L42",
    "The deploy key fingerprint is SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8.",
    "Pinned the key script: <script src=\"app.js\" integrity=\"sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC\">",
    "Rotated the token in commit 3f2a9c1d4e5b6a7f8091a2b3c4d5e6f708192a3b yesterday",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl u@host",
    "msbuild /p:Configuration=Release /p:Platform=x64\nopenssl rsa -passin env:KEYPASS -in key.pem",
    "{\"id_token\": null, \"refresh_token\": \"\"}\nTOKEN=\nPASSWORD=''",
    "Open the net user accounts page, then check the net use mappings for drive Z.",
];

fn redact(text: &str) -> Redacted {
    global().redact(text)
}

#[test]
fn corpus_has_enough_forms() {
    assert!(secret_cases().len() >= 35);
    assert!(ORDINARY.len() >= 15);
    let mut names: Vec<_> = secret_cases().iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), secret_cases().len(), "case names are unique");
}

#[test]
fn secrets_are_redacted() {
    let mut failures = Vec::new();
    for c in secret_cases() {
        let out = redact(&c.text);
        let placeholder = format!("[REDACTED:{}]", c.kind);
        for s in &c.secrets {
            if out.text.contains(s.as_str()) {
                failures.push(format!(
                    "{}: secret {s:?} survived in {:?}",
                    c.name, out.text
                ));
            }
        }
        if !out.text.contains(&placeholder) {
            failures.push(format!("{}: no {placeholder} in {:?}", c.name, out.text));
        }
        if out.count == 0 {
            failures.push(format!("{}: count is 0", c.name));
        }
        assert!(
            placeholder_kinds().contains(&c.kind),
            "{}: kind {} not listed",
            c.name,
            c.kind
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ordinary_text_is_unchanged() {
    let mut failures = Vec::new();
    for text in ORDINARY {
        let out = redact(text);
        if out.text != *text || out.count != 0 {
            failures.push(format!("in:  {text:?}\nout: {:?}", out.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn non_secret_context_is_kept() {
    let out = redact("password=hunter2secret");
    assert_eq!(out.text, "password=[REDACTED:password]");
    assert_eq!(out.count, 1);

    let out = redact("postgres://admin:S3cr3t!@db.example.com/x");
    assert_eq!(
        out.text,
        "postgres://admin:[REDACTED:url-credentials]@db.example.com/x"
    );

    let token = fake(1000, &alnum(), 40);
    let out = redact(&format!("Authorization: Bearer {token}"));
    assert_eq!(out.text, "Authorization: Bearer [REDACTED:bearer-token]");

    let path = fake(1001, &alnum(), 24);
    let out = redact(&format!("POST https://hooks.slack.com/services/{path}"));
    assert_eq!(
        out.text,
        "POST https://hooks.slack.com/services/[REDACTED:slack-webhook]"
    );

    let out = redact(r#"{"password": "p@ss w0rd!"}"#);
    assert_eq!(out.text, r#"{"password": "[REDACTED:password]"}"#);

    let out = redact("Server=sql01;User Id=sa;Password=a b c;Encrypt=True");
    assert_eq!(
        out.text,
        "Server=sql01;User Id=sa;Password=[REDACTED:password];Encrypt=True"
    );
}

#[test]
fn whole_pem_block_is_one_placeholder() {
    let c = &secret_cases()[0];
    let out = redact(&c.text);
    assert_eq!(
        out.text,
        "$ cat ~/.ssh/id_rsa\n[REDACTED:private-key]\n$ ls -la ~/.ssh\n"
    );
    assert_eq!(out.count, 1);
}

#[test]
fn count_matches_number_of_secrets() {
    let gh = format!("ghp_{}", fake(1100, &alnum(), 36));
    let aws = format!("AKIA{}", fake(1101, &upper_digits(), 16));
    let text = format!("token one {gh}\nkey two {aws}\npassword=hunter2secret\n");
    let out = redact(&text);
    assert_eq!(out.count, 3, "{}", out.text);
}

fn vault_redactor() -> Redactor {
    let set: HashSet<String> = ["Tr0ub4dor&3xyz".to_owned()].into_iter().collect();
    Redactor::new().with_known_secrets(move |candidate| set.contains(candidate))
}

#[test]
fn known_secrets_are_redacted_everywhere() {
    let red = vault_redactor();
    let texts = [
        "login with \"Tr0ub4dor&3xyz\" please",
        "DB_PASS=Tr0ub4dor&3xyz ./run.sh",
        "Tr0ub4dor&3xyz",
        "the value was (Tr0ub4dor&3xyz).",
        "https://h.example/?a=1&pw=Tr0ub4dor&3xyz&b=2",
        r#"{"note":"Tr0ub4dor&3xyz"}"#,
        r#"{\"pw\":\"Tr0ub4dor&3xyz\"}"#,
        "user:Tr0ub4dor&3xyz@host",
        "the vault says: pass=Tr0ub4dor&3xyz;next=1",
        "'Tr0ub4dor&3xyz'\n`Tr0ub4dor&3xyz`",
    ];
    for text in texts {
        let out = red.redact(text);
        assert!(
            !out.text.contains("Tr0ub4dor"),
            "{text:?} -> {:?}",
            out.text
        );
        assert!(
            out.text.contains(PLACEHOLDER_PREFIX),
            "{text:?} -> {:?}",
            out.text
        );
    }
    assert_eq!(red.redact("Tr0ub4dor&3xyz").text, "[REDACTED:known-secret]");
    assert_eq!(
        red.redact("echo \"Tr0ub4dor&3xyz\"").text,
        "echo \"[REDACTED:known-secret]\""
    );
    // `password=` alone sees only `Tr0ub4dor` (`&` ends a bare value); the
    // known secret widens the span to the whole value.
    assert_eq!(
        red.redact("password=Tr0ub4dor&3xyz").text,
        "password=[REDACTED:known-secret]"
    );
}

#[test]
fn known_secrets_leave_other_tokens_alone() {
    let red = vault_redactor();
    for text in [
        "Tr0ub4dor&3xyz2 is a different value",
        "the quick brown fox jumps over the lazy dog",
        "Tr0ub4dor and 3xyz apart",
    ] {
        let out = red.redact(text);
        assert_eq!(out.text, text);
        assert_eq!(out.count, 0);
    }
    for text in ORDINARY {
        assert_eq!(red.redact(text).text, *text);
    }
}

#[test]
fn redaction_is_idempotent() {
    let red = vault_redactor();
    let mut inputs: Vec<String> = secret_cases().into_iter().map(|c| c.text).collect();
    inputs.extend(ORDINARY.iter().map(|s| (*s).to_owned()));
    inputs.push("user:Tr0ub4dor&3xyz@host and password=Tr0ub4dor&3xyz".to_owned());
    for text in inputs {
        let once = red.redact(&text);
        let twice = red.redact(&once.text);
        assert_eq!(twice.text, once.text, "not idempotent for {text:?}");
        assert_eq!(twice.count, 0, "re-redacted {:?}", once.text);
    }
}

#[test]
fn placeholders_are_never_re_redacted() {
    let text = "password=[REDACTED:password] token: [REDACTED:github-token]\n\
                postgres://admin:[REDACTED:url-credentials]@db/x\n\
                Authorization: Bearer [REDACTED:bearer-token]\n\
                api key [REDACTED:api-key] next [REDACTED:known-secret]";
    let out = vault_redactor().redact(text);
    assert_eq!(out.text, text);
    assert_eq!(out.count, 0);
}

#[test]
fn huge_input_completes_and_is_correct() {
    let cases = secret_cases();
    let mut block = String::new();
    let mut per_block = 0;
    for c in cases.iter().take(12) {
        block.push_str(&c.text);
        block.push('\n');
        per_block += redact(&c.text).count;
    }
    for text in ORDINARY {
        block.push_str(text);
        block.push('\n');
    }
    let reps = 5 * 1024 * 1024 / block.len() + 1;
    let huge = block.repeat(reps);
    assert!(huge.len() >= 5 * 1024 * 1024);
    let out = redact(&huge);
    assert_eq!(out.count, per_block * reps);
    for c in cases.iter().take(12) {
        for s in &c.secrets {
            assert!(!out.text.contains(s.as_str()), "{} survived", c.name);
        }
    }
    // One huge line without whitespace (minified JSON) is fine too.
    let line = "{\"k\":\"v\",\"n\":1}".repeat(300_000);
    assert_eq!(vault_redactor().redact(&line).count, 0);
}

#[test]
fn random_strings_look_random_and_words_do_not() {
    let alphabets = [
        alnum(),
        b64(),
        b64url(),
        upper_digits(),
        format!("{LOWER}{DIGITS}"),
    ];
    let mut total = 0;
    let mut detected = 0;
    for (a, alphabet) in alphabets.iter().enumerate() {
        for i in 0..200u64 {
            let len = 20 + (i as usize % 45);
            let mut rng = Rng::new(10_000 + a as u64 * 1000 + i);
            let s: String = (0..len)
                .map(|_| char::from(rng.pick(alphabet.as_bytes())))
                .collect();
            total += 1;
            if looks_random(&s) {
                detected += 1;
            }
        }
    }
    // Strings that by chance have a single character class (all letters
    // of one case) are the only expected misses.
    assert!(detected * 100 >= total * 95, "{detected}/{total}");

    for word in [
        "getUserPreferencesForAccount",
        "the_default_user_preferences_v2",
        "MY_APP_CONFIG_VALUE_2024",
        "/home/u/project/src/main",
        "src/memory/redact_module/tests",
        "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "123e4567-e89b-12d3-a456-426614174000",
        "node_modules/typescript/lib",
        "keyRotationIntervalMilliseconds",
        "aaaaaaaaaaaaaaaaaaaaaaaa1",
        "state-of-the-art-implementation",
        "20240101123045_create_users",
        "ababababababababababAB12",
    ] {
        assert!(!looks_random(word), "{word} looked random");
    }
}

#[test]
fn key_names_are_classified() {
    let kind = |k: &str| secret_key_kind(&segments(k));
    assert_eq!(kind("password"), Some("password"));
    assert_eq!(kind("DB_PASSWORD"), Some("password"));
    assert_eq!(kind("PGPASSWORD"), Some("password"));
    assert_eq!(kind("dbPassword"), Some("password"));
    assert_eq!(kind("--password"), Some("password"));
    assert_eq!(kind("password_hash"), Some("password"));
    assert_eq!(kind("AWS_SECRET_ACCESS_KEY"), Some("aws-secret"));
    assert_eq!(kind("SecretAccessKey"), Some("aws-secret"));
    assert_eq!(kind("AccountKey"), Some("azure-key"));
    assert_eq!(kind("SharedAccessKey"), Some("azure-key"));
    assert_eq!(kind("x-api-key"), Some("api-key"));
    assert_eq!(kind("apiKey"), Some("api-key"));
    assert_eq!(kind("APIKEY"), Some("api-key"));
    assert_eq!(kind("client_secret"), Some("client-secret"));
    assert_eq!(kind("accessToken"), Some("token"));
    assert_eq!(kind("_authToken"), Some("token"));
    assert_eq!(kind("private_key"), Some("private-key"));
    assert_eq!(kind("sig"), Some("sas-token"));
    for not_secret in [
        "max_tokens",
        "input_tokens",
        "token_type",
        "token_count",
        "password_file",
        "password-file",
        "private_key_id",
        "public_key",
        "primary_key",
        "sort_key",
        "secretName",
        "key",
        "keys",
        "author",
        "authorization",
        "monkey",
        "bypass",
    ] {
        assert_eq!(kind(not_secret), None, "{not_secret}");
    }
}

#[test]
fn segments_split_identifiers() {
    assert_eq!(
        segments("AWS_SECRET_ACCESS_KEY"),
        ["aws", "secret", "access", "key"]
    );
    assert_eq!(segments("HTTPToken"), ["http", "token"]);
    assert_eq!(segments("clientSecret"), ["client", "secret"]);
    assert_eq!(segments("x-api-key"), ["x", "api", "key"]);
    assert_eq!(
        segments("spring.datasource.password"),
        ["spring", "datasource", "password"]
    );
}

#[test]
fn value_parser_handles_escaped_quotes() {
    fn v(t: &str) -> Option<&str> {
        parse_value(t, 0, false).map(|v| &t[v.start..v.end])
    }
    assert_eq!(v(r#""pa\"ss" rest"#), Some(r#"pa\"ss"#));
    assert_eq!(v(r#"\"hunter2\", next"#), Some("hunter2"));
    assert_eq!(v(r#"\\\"deep\\\""#), Some("deep"));
    assert_eq!(v(r#"'single quoted' x"#), Some("single quoted"));
    assert_eq!(v("bare&next=1"), Some("bare"));
    assert_eq!(v(r"abc\nnext"), Some("abc"));
    assert_eq!(v("  spaced"), Some("spaced"));
    assert_eq!(v("\"unterminated value"), Some("unterminated"));
    assert_eq!(v(""), None);
    assert_eq!(v("\n"), None);
    assert_eq!(
        parse_value("a b c;x", 0, true).map(|v| (v.start, v.end)),
        Some((0, 5))
    );
}

#[test]
fn references_masks_and_code_are_not_values() {
    for v in [
        "$DB_PASSWORD",
        "${TOKEN}",
        "$(cat /run/secrets/x)",
        "$env:PW",
        "%PASSWORD%",
        "{{ .Values.pw }}",
        "<your-token>",
        "$Password",
    ] {
        assert!(!value_is_secret(v, true), "{v}");
    }
    for v in [
        "********",
        "xxxx",
        "...",
        "String",
        "&str",
        "self.password",
        "getpass(",
        "os.environ[",
        "Read-Host",
        "db_password",
        "required",
        "none",
    ] {
        assert!(!value_is_secret(v, false), "{v}");
    }
    for v in [
        "hunter2secret",
        "letmein",
        "CHANGEME",
        "$uperS3cret!",
        "Winter2024!",
    ] {
        assert!(value_is_secret(v, false), "{v}");
    }
}

#[test]
fn non_ascii_text_is_safe() {
    let text = "Пароль: password=пароль123ünïcødé 🙂 token=✓✓✓✓✓✓ and ключ";
    let out = redact(text);
    assert!(!out.text.contains("пароль123"));
    let out2 = vault_redactor().redact(&"é".repeat(5000));
    assert_eq!(out2.count, 0);
}

#[test]
fn random_fragments_never_panic_and_stay_idempotent() {
    let fragments = [
        "password",
        "token",
        "secret",
        "api_key",
        "Authorization",
        "Bearer",
        "Basic",
        "=",
        ":",
        ": ",
        "\"",
        "'",
        "\\",
        "\\\"",
        "\\n",
        "\n",
        " ",
        "\t",
        ";",
        "&",
        "@",
        "/",
        "://",
        "https",
        "user",
        "$",
        "${",
        "}",
        "[REDACTED:",
        "]",
        "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----",
        "net user ",
        "mysql -p",
        "sshpass -p ",
        "é",
        "🙂",
        "ключ",
        "\u{00a0}",
        "AbC9xYz",
        "0123456789abcdef",
        "ghp_",
        "AKIA",
        "eyJ",
        ".",
        "Q~",
        "sig=",
        "%",
        "<Value>",
        "</Value>",
        "<Password>",
        "key=\"",
        "value=\"",
    ];
    let red = vault_redactor();
    let mut rng = Rng::new(4242);
    for _ in 0..3000 {
        let n = 1 + (rng.next() % 24) as usize;
        let mut text = String::new();
        for _ in 0..n {
            let f = fragments[(rng.next() % fragments.len() as u64) as usize];
            text.push_str(f);
            if rng.next().is_multiple_of(3) {
                text.push_str(&fake(rng.next(), &alnum(), 8 + (rng.next() % 40) as usize));
            }
        }
        let once = red.redact(&text);
        let twice = red.redact(&once.text);
        assert_eq!(twice.text, once.text, "not idempotent for {text:?}");
    }
}

#[test]
fn global_is_shared() {
    assert!(std::ptr::eq(global(), global()));
}

/// Every rule's examples, beside the rule in `rules.rs`: each secret becomes
/// exactly its placeholder, and nothing else changes.
#[test]
fn every_rule_example_is_redacted_exactly() {
    let mut failures = Vec::new();
    for ex in corpus::examples() {
        let out = redact(&ex.text);
        if out.text != ex.expected {
            failures.push(format!(
                "{}:\n  in:       {:?}\n  out:      {:?}\n  expected: {:?}",
                ex.rule, ex.text, out.text, ex.expected
            ));
        }
        for s in &ex.secrets {
            if out.text.contains(s.as_str()) {
                failures.push(format!("{}: secret {s:?} survived", ex.rule));
            }
        }
        if !placeholder_kinds().contains(&ex.kind) {
            failures.push(format!("{}: kind {} is not listed", ex.rule, ex.kind));
        }
        if redact(&out.text).text != out.text {
            failures.push(format!("{}: not idempotent", ex.rule));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_an_example() {
    let mut names: Vec<&str> = rules::examples().iter().map(|e| e.rule).collect();
    for e in rules::examples() {
        assert!(!e.templates.is_empty(), "{} has no example", e.rule);
    }
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "rule names are unique");
}

#[test]
fn corpus_ordinary_text_is_unchanged() {
    let mut failures = Vec::new();
    for text in corpus::ordinary() {
        let out = redact(&text);
        if out.text != text {
            failures.push(format!("in:  {text:?}\nout: {:?}", out.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn corpus_has_at_least_150_forms() {
    assert!(
        corpus::examples().len() >= 150,
        "{}",
        corpus::examples().len()
    );
    assert!(corpus::ordinary().len() + ORDINARY.len() >= 50);
}
