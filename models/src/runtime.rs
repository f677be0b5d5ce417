//! The inference runtime: ONNX Runtime (loaded at run time) or the pure-Rust tract backend.
//!
//! `ort` keeps one API table and one environment per process, so the backend is chosen
//! once, by the first engine loaded, and every later engine in the process shares it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use crate::ModelError;

/// Which runtime to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Backend {
    /// ONNX Runtime when a library is found (`ORT_DYLIB_PATH`, then the system's
    /// `libonnxruntime.so`), else tract.
    #[default]
    Auto,
    /// ONNX Runtime from `lib`, or from `ORT_DYLIB_PATH` when `None`; fails if not found.
    OnnxRuntime { lib: Option<PathBuf> },
    /// The pure-Rust tract backend; needs nothing installed.
    Tract,
}

/// The runtime that is live in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    OnnxRuntime,
    Tract,
}

impl BackendKind {
    /// `"onnxruntime"` or `"tract"`, as reported by `/health`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::OnnxRuntime => "onnxruntime",
            BackendKind::Tract => "tract",
        }
    }
}

struct Live {
    kind: BackendKind,
    env: Environment,
}

static LIVE: Mutex<Option<Live>> = Mutex::new(None);

/// Returns the backend already live in this process, if any.
pub fn live_backend() -> Option<BackendKind> {
    LIVE.lock().ok().and_then(|g| g.as_ref().map(|l| l.kind))
}

fn ort_lib_from_env() -> Option<PathBuf> {
    std::env::var_os("ORT_DYLIB_PATH")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

fn init_onnxruntime(lib: &Path) -> Result<Environment, ModelError> {
    let builder = ort::environment::init_from(lib).map_err(|e| {
        ModelError::Runtime(format!("loading ONNX Runtime from {}: {e}", lib.display()))
    })?;
    Ok(builder.with_name("gerbang-models").build()?)
}

fn init_tract() -> Result<Environment, ModelError> {
    // `set_api` only fails when an API table is already installed, which `LIVE` rules out.
    ort::set_api(ort_tract::api());
    Ok(ort::environment::init()
        .with_name("gerbang-models")
        .build()?)
}

/// Makes sure a runtime is live and returns its kind and environment.
pub(crate) fn ensure(backend: &Backend) -> Result<(BackendKind, Environment), ModelError> {
    let mut guard = LIVE
        .lock()
        .map_err(|_| ModelError::Runtime("runtime lock poisoned".into()))?;
    if let Some(live) = guard.as_ref() {
        let compatible = match backend {
            Backend::Auto => true,
            Backend::OnnxRuntime { .. } => live.kind == BackendKind::OnnxRuntime,
            Backend::Tract => live.kind == BackendKind::Tract,
        };
        if !compatible {
            return Err(ModelError::Runtime(format!(
                "backend {} is already live in this process; only one backend per process",
                live.kind.name()
            )));
        }
        return Ok((live.kind, live.env.clone()));
    }
    let (kind, env) = match backend {
        Backend::Tract => (BackendKind::Tract, init_tract()?),
        Backend::OnnxRuntime { lib } => {
            let lib = lib
                .clone()
                .or_else(ort_lib_from_env)
                .unwrap_or_else(|| PathBuf::from("libonnxruntime.so"));
            (BackendKind::OnnxRuntime, init_onnxruntime(&lib)?)
        }
        Backend::Auto => {
            let lib = ort_lib_from_env().unwrap_or_else(|| PathBuf::from("libonnxruntime.so"));
            match init_onnxruntime(&lib) {
                Ok(env) => (BackendKind::OnnxRuntime, env),
                Err(e) => {
                    tracing::info!(error = %e, "ONNX Runtime not available, using tract.");
                    (BackendKind::Tract, init_tract()?)
                }
            }
        }
    };
    tracing::info!(backend = kind.name(), "Inference backend live.");
    *guard = Some(Live {
        kind,
        env: env.clone(),
    });
    Ok((kind, env))
}

/// An output tensor copied out of the runtime.
#[derive(Debug, Clone)]
pub struct Output {
    pub shape: Vec<i64>,
    pub data: Vec<f32>,
}

/// One loaded ONNX model. `Session::run` needs `&mut`, so runs are serialised per model.
pub(crate) struct Model {
    name: &'static str,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("name", &self.name).finish()
    }
}

impl Model {
    pub(crate) fn load(
        name: &'static str,
        env: &Environment,
        kind: BackendKind,
        bytes: &[u8],
        threads: usize,
    ) -> Result<Self, ModelError> {
        let ctx = |e: ort::Error| ModelError::Runtime(format!("loading model {name}: {e}"));
        let mut builder = Session::builder(env).map_err(ctx)?;
        builder = builder
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ctx(e.into()))?;
        if kind == BackendKind::OnnxRuntime {
            builder = builder
                .with_intra_threads(threads.max(1))
                .map_err(|e| ctx(e.into()))?;
        }
        let session = builder.commit_from_memory(bytes).map_err(ctx)?;
        Ok(Model {
            name,
            session: Mutex::new(session),
        })
    }

    /// Runs the model on one f32 input and copies the named outputs out.
    pub(crate) fn run(
        &self,
        input_name: &str,
        shape: [usize; 4],
        data: Vec<f32>,
        outputs: &[String],
    ) -> Result<Vec<Output>, ModelError> {
        let tensor = Tensor::from_array((shape, data))?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| ModelError::Runtime(format!("model {} lock poisoned", self.name)))?;
        let result = session.run(ort::inputs![input_name => tensor])?;
        let mut out = Vec::with_capacity(outputs.len());
        for name in outputs {
            let value = result
                .get(name.as_str())
                .ok_or_else(|| ModelError::Output {
                    model: self.name,
                    output: name.clone(),
                    reason: "no such output".into(),
                })?;
            let (shape, data) =
                value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| ModelError::Output {
                        model: self.name,
                        output: name.clone(),
                        reason: e.to_string(),
                    })?;
            out.push(Output {
                shape: shape.iter().copied().collect(),
                data: data.to_vec(),
            });
        }
        Ok(out)
    }
}
