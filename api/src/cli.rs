//! The `dvc` command line: serve, migrate, seed, openapi, admin.

use clap::{Args, Parser, Subcommand};
use dvc_domain::auth::{check_password, Role};
use dvc_persistence::accounts::{self, AccountRow};
use dvc_persistence::{new_id, now};

use crate::config::Config;
use crate::state::AppState;

#[derive(Parser)]
#[command(name = "dvc", version, about = "Backend of an online public-service portal (dịch vụ công trực tuyến)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API (Swagger UI at /docs/).
    Serve,
    /// Apply pending migrations only.
    Migrate,
    /// Load reference data.
    Seed(SeedArgs),
    /// Print the OpenAPI document (the content of openapi.yaml).
    Openapi,
    /// The working-day calendar: print a draft year (the statutory days, to correct when the
    /// government announces the year) in the form of the files in api/seed/calendar/.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Manage administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Uploaded files: copy those kept in DVC_DATA_DIR into the object store of DVC_STORAGE_URL.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy every file the database records from DVC_DATA_DIR into the object store, keeping its
    /// key (files already there are left); servers started with DVC_STORAGE_URL then find them.
    Import,
}

#[derive(Args)]
struct SeedArgs {
    /// The demo catalogue: administrative units, fields, agencies and procedures (idempotent).
    #[arg(long)]
    demo: bool,
    /// A large data set for load tests, on top of the demo catalogue (once per database).
    #[arg(long)]
    synthetic: bool,
    /// How many synthetic procedures.
    #[arg(long, default_value_t = 20_000)]
    procedures: usize,
    /// How many synthetic dossiers.
    #[arg(long, default_value_t = 1_000_000)]
    dossiers: usize,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print a draft of a year as JSON.
    Draft {
        #[arg(long)]
        year: i32,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator, or reset the password of an existing one.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Quản trị hệ thống")]
        full_name: String,
    },
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    crate::allocator::tune_allocator();
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", crate::openapi::yaml());
        return 0;
    }
    if let Command::Calendar { command: CalendarCommand::Draft { year } } = cli.command {
        let draft = dvc_domain::calendar::OfficialYear::draft(year);
        return match serde_json::to_string_pretty(&draft) {
            Ok(text) => {
                println!("{text}");
                0
            }
            Err(e) => {
                eprintln!("dvc: {e}");
                1
            }
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dvc: configuration error: {e}");
            return 2;
        }
    };
    init_logging(config.log_json);
    match run(cli.command, config) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dvc: {e}");
            1
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Openapi | Command::Calendar { .. } => Ok(()),
        Command::Migrate => {
            AppState::open(config)?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed(args) => {
            if !args.demo && !args.synthetic {
                return Err("say what to seed: dvc seed --demo, or dvc seed --synthetic".into());
            }
            let state = AppState::open(config)?;
            let mut conn = state.pool.get().map_err(|e| e.to_string())?;
            let report = crate::seed::demo(&mut conn).map_err(|e| e.to_string())?;
            println!("{report}");
            if args.synthetic {
                println!("{}", crate::seed::synthetic::load(&mut conn, args.procedures, args.dossiers)?);
            }
            Ok(())
        }
        Command::Admin { command: AdminCommand::Create { username, password, full_name } } => {
            let state = AppState::open(config)?;
            let mut conn = state.pool.get().map_err(|e| e.to_string())?;
            let created = create_admin(&mut conn, &username, &password, &full_name)?;
            println!("{} administrator {username}", if created { "created" } else { "reset the password of" });
            Ok(())
        }
        Command::Storage { command: StorageCommand::Import } => {
            let dir = config.data_dir.clone();
            let state = AppState::open(config)?;
            let keys = {
                let mut conn = state.pool.get().map_err(|e| e.to_string())?;
                dvc_persistence::files::all_storage_keys(&mut conn).map_err(|e| e.to_string())?
            };
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            let (copied, present) = runtime.block_on(state.storage.import_local(&dir, &keys))?;
            println!("{copied} files copied into the object store, {present} were there already");
            Ok(())
        }
        Command::Serve => serve(config),
    }
}

/// Creates an administrator, or resets the password of the one with that username.
pub fn create_admin(
    conn: &mut dvc_persistence::DbConn,
    username: &str,
    password: &str,
    full_name: &str,
) -> Result<bool, String> {
    let username = username.trim();
    if username.is_empty() || username.len() > 64 {
        return Err("the username must be 1–64 characters".into());
    }
    check_password(password, &[username]).map_err(|e| e.message_en)?;
    let hash = crate::auth::hash_password(password).map_err(|e| e.to_string())?;
    match accounts::find_by_username(conn, username).map_err(|e| e.to_string())? {
        Some(mut existing) => {
            if existing.role != Role::Admin.as_str() {
                return Err(format!("{username} exists and is not an administrator"));
            }
            existing.password_hash = hash;
            existing.disabled = false;
            existing.updated_at = now();
            accounts::update(conn, &existing).map_err(|e| e.to_string())?;
            Ok(false)
        }
        None => {
            let t = now();
            accounts::insert(
                conn,
                &AccountRow::staff(new_id(), Role::Admin.as_str(), username, full_name, hash, None, t),
            )
            .map_err(|e| e.to_string())?;
            Ok(true)
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    config.check_secret()?;
    if config.sandbox {
        tracing::warn!("SANDBOX MODE: OTPs are returned in answers and the sandbox payment provider is on; never use in production");
    }
    let listen = config.listen.clone();
    let state = AppState::open(config)?;
    let listener = std::net::TcpListener::bind(&listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    tracing::info!(address = %listen, "serving; Swagger UI at /docs/");
    actix_web::rt::System::new()
        .block_on(async move { crate::app::serve(state, listener)?.await })
        .map_err(|e| e.to_string())
}
