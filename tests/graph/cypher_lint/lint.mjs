// Lint Cypher statements with Neo4j's own front end. Input (stdin): a JSON array of strings.
// Output (stdout): a JSON array of {statement, diagnostics}; parameter-not-defined diagnostics are dropped.
import { lintCypherQuery, isNotParamError } from "@neo4j-cypher/language-support";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const statements = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = statements.map((statement) => {
  const result = lintCypherQuery(statement, {});
  const diagnostics = (result.diagnostics ?? result).filter(isNotParamError);
  return { statement, diagnostics: diagnostics.map((d) => ({ message: d.message, severity: d.severity })) };
});
process.stdout.write(JSON.stringify(out));
