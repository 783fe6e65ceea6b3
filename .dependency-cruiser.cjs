/**
 * The layering of src/ (README, Development): which folder may import which. `npm run lint` runs
 * this; a forbidden import fails it. Type-only imports of config/ are allowed everywhere: a
 * module may name the slice of Config it is given, but only the roots read configuration.
 */
const ROOTS = "^src/(cli/|api/main\\.ts|workers/main\\.ts|scheduler/main\\.ts)";

/** A rule: files under `from` may import only files under the folders in `allowed` (and npm). */
function onlyImports(name, from, allowed, comment) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: `^src/${from}/` },
    to: { path: "^src/", pathNot: [`^src/(${[from, ...allowed].join("|")})/`, "^src/config/"] },
  };
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Import cycles make load order matter and hide which module owns what.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    onlyImports(
      "pipeline-imports-lib-only",
      "pipeline",
      ["lib"],
      "The pipeline runs anywhere: no Redis, queues, HTTP or config.",
    ),
    onlyImports("lib-is-a-leaf", "lib", [], "lib/ holds errors, logging and time helpers that everything may use."),
    onlyImports(
      "config-imports-lib-only",
      "config",
      ["lib"],
      "config/ parses the environment; it knows no other module.",
    ),
    onlyImports(
      "store",
      "store",
      ["lib", "pipeline", "queues"],
      "The store keeps what the pipeline produced; it is given clients.",
    ),
    {
      name: "store-uses-queue-types-only",
      comment: "The store names job options by their type; it never adds jobs.",
      severity: "error",
      from: { path: "^src/store/" },
      to: { path: "^src/queues/", dependencyTypesNot: ["type-only"] },
    },
    onlyImports("queues", "queues", ["lib", "pipeline"], "Queues know job data and pipeline types, nothing above."),
    onlyImports(
      "websites",
      "websites",
      ["queues", "store", "lib", "pipeline", "security"],
      "The websites service sits on queues and store.",
    ),
    onlyImports("security", "security", ["lib", "pipeline"], "Address policy, sessions and tokens: below the API."),
    onlyImports("metrics", "metrics", ["lib", "pipeline", "queues"], "Metrics read queues; nothing above them."),
    onlyImports("admin", "admin", ["queues", "lib"], "Bull Board over given queues."),
    onlyImports(
      "workers",
      "workers",
      ["queues", "websites", "pipeline", "store", "lib", "metrics", "security"],
      "Workers run jobs; they never import the API.",
    ),
    onlyImports(
      "scheduler",
      "scheduler",
      ["queues", "websites", "store", "lib", "security"],
      "The scheduler root and its maintenance.",
    ),
    {
      name: "nothing-below-api-imports-api",
      comment: "The API is the top of the service; only the CLI (a root) may import it.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(api|cli)/" },
      to: { path: "^src/api/" },
    },
    {
      name: "pipeline-no-infrastructure",
      comment: "The pipeline takes plain options: no Redis, BullMQ, Express or Bull Board.",
      severity: "error",
      from: { path: "^src/(pipeline|lib|config)/" },
      // An unresolved package keeps its bare name ("ioredis"), a resolved one its node_modules path.
      to: { path: "(^|node_modules/)(ioredis|bullmq|express|@bull-board)(/|$)" },
    },
    {
      name: "only-roots-read-config",
      comment: "Roots read config and pass each module its slice; others may import its types only.",
      severity: "error",
      from: { path: "^src/", pathNot: [ROOTS, "^src/config/"] },
      to: { path: "^src/config/", dependencyTypesNot: ["type-only"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // node_modules stays in the graph (not followed), so the rule on infrastructure packages can see it.
    exclude: { path: "^dist/" },
  },
};
