/**
 * Real certificates for TLS tests, made with the openssl CLI in a temp folder: a CA, leaf
 * certificates it signs (server and client use, with subject alternative names), and expired
 * ones (`openssl ca` with a start and end date in the past).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const OPENSSL = "/usr/bin/openssl";

/** A certificate authority's files. */
export interface TestCa {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
}

/** A certificate and its key, signed by a {@link TestCa}. */
export interface TestCert {
  readonly cert: string;
  readonly key: string;
  /** The CA certificate that signed it. */
  readonly ca: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A new CA (EC P-256, self-signed) in `<parent>/<name>/`. */
export function makeCa(parent: string, name: string): TestCa {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "30", "-subj", `/CN=${name}`]);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(join(dir, "ca.cnf"), "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n");
  return { dir, cert: join(dir, "ca.pem"), key: join(dir, "ca-key.pem") };
}

/** Options of {@link issue}. */
export interface IssueOptions {
  /** Subject alternative names, e.g. `["DNS:localhost", "IP:127.0.0.1"]` (default those two). */
  readonly sans?: readonly string[];
  /** Valid only in 2020: expired. */
  readonly expired?: boolean;
}

/** A leaf certificate `<name>.pem` / `<name>-key.pem` signed by `ca`, for server and client use. */
export function issue(ca: TestCa, name: string, options: IssueOptions = {}): TestCert {
  const sans = options.sans ?? ["DNS:localhost", "IP:127.0.0.1"];
  const ext = join(ca.dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${sans.join(",")}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(ca.dir, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
  const dates = options.expired ? ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] : ["-days", "30"];
  openssl(ca.dir, ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca-key.pem", "-in", `${name}.csr`, "-notext", "-out", `${name}.pem`, "-extfile", ext, ...dates]);
  return { cert: join(ca.dir, `${name}.pem`), key: join(ca.dir, `${name}-key.pem`), ca: ca.cert };
}
