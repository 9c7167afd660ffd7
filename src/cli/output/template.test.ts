import { test } from "node:test";
import assert from "node:assert/strict";
import { compileTemplate, TemplateContext, TemplateError } from "./template.js";

const run = (src: string, data: unknown) => compileTemplate(src).execute(data);

const ctx = new TemplateContext("*formatter.ContainerContext", {
  ID: () => "abc123", Names: () => "web", Labels: () => "a=1,b=2", Ports: () => "",
}, { Label: (k: unknown) => ({ a: "1", b: "2" } as Record<string, string>)[String(k)] ?? "" });

test("fields, nested fields and methods with arguments", () => {
  assert.equal(run("{{.ID}}\t{{.Names}}", ctx), "abc123\tweb");
  assert.equal(run('{{.Label "a"}}-{{.Label "zz"}}', ctx), "1-");
  const inspect = { State: { Status: "running", Pid: 42 }, Config: { Env: ["A=1", "B=2"], Labels: { "com.x": "y" } } };
  assert.equal(run("{{.State.Status}} {{.State.Pid}}", inspect), "running 42");
  assert.equal(run("{{.Config.Env}}", inspect), "[A=1 B=2]");
  assert.equal(run("{{.Config.Labels}}", inspect), "map[com.x:y]");
  assert.equal(run("{{.Nope}}", inspect), "<no value>");
});

test("json, join, index, lower/upper, println, printf", () => {
  const inspect = { Config: { Env: ["A=1", "B=2"], Labels: { "com.x": "y" } }, Name: "/web" };
  assert.equal(run("{{json .Config.Env}}", inspect), '["A=1","B=2"]');
  assert.equal(run("{{json .}}", ctx), '{"ID":"abc123","Labels":"a=1,b=2","Names":"web","Ports":""}');
  assert.equal(run('{{join .Config.Env ","}}', inspect), "A=1,B=2");
  assert.equal(run('{{index .Config.Labels "com.x"}}', inspect), "y");
  assert.equal(run("{{lower .Name}}{{upper .Name}}", { Name: "Ab" }), "abAB");
  assert.equal(run("{{println .Name}}", inspect), "/web\n");
  assert.equal(run('{{printf "%s=%d" .Name 3}}', inspect), "/web=3");
  assert.equal(run("{{.Name | upper}}", inspect), "/WEB");
  assert.equal(run('{{(index .Config.Env 1)}}', inspect), "B=2");
  assert.equal(run("{{len .Config.Env}}", inspect), "2");
});

test("if/else, range, with, variables, trim markers", () => {
  const d = { Running: true, Items: ["a", "b"], M: { y: 2, x: 1 }, Empty: [] };
  assert.equal(run("{{if .Running}}up{{else}}down{{end}}", d), "up");
  assert.equal(run("{{if not .Running}}up{{else if .Items}}items{{else}}down{{end}}", d), "items");
  assert.equal(run("{{range .Items}}[{{.}}]{{end}}", d), "[a][b]");
  assert.equal(run("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}", d), "x=1;y=2;");
  assert.equal(run("{{range .Empty}}x{{else}}none{{end}}", d), "none");
  assert.equal(run("{{with .M}}{{.x}}{{end}}", d), "1");
  assert.equal(run("{{range $i, $e := .Items}}{{$i}}{{$e}}{{$.Running}} {{end}}", d), "0atrue 1btrue ");
  assert.equal(run("a  {{- .Running -}}  b", d), "atrueb");
  assert.equal(run('{{if eq .Name "x"}}yes{{end}}', { Name: "x" }), "yes");
});

test("unknown fields on a context and unknown functions are errors in Go's words", () => {
  assert.throws(() => run("{{.Foo}}", ctx), (e: unknown) => e instanceof TemplateError &&
    e.message === 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext');
  assert.throws(() => compileTemplate("{{nosuch .ID}}"), /function "nosuch" not defined/);
  assert.throws(() => compileTemplate("{{if .ID}}x"), /unexpected EOF/);
});
