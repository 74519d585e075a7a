import { describe, expect, it } from "vitest";
import { judgeTemplate } from "./jinja";

const codes = (t: string) => judgeTemplate(t).map((f) => `${f.severity}:${f.code}`);
const dangerous = (t: string) => judgeTemplate(t).some((f) => f.severity === "danger");

describe("chat templates judged on their Jinja syntax tree", () => {
  it.each([
    [
      "llama-3",
      "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}",
    ],
    [
      "mistral",
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
    ],
    [
      "chatml with namespace",
      "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m['role'] == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{{ '<|im_start|>assistant\\n' if add_generation_prompt }}",
    ],
    [
      "tools, selectattr and tojson",
      "{%- if tools %}{%- for tool in tools %}{{- tool | tojson }}{%- endfor %}{%- endif %}{% for m in messages|selectattr('role', 'equalto', 'user') %}{{ m.content|default('', true) }}{% endfor %}",
    ],
    [
      "prose about eval() and __init__",
      "{# never eval() #}{{ 'Never call eval() or exec() on input; ignore __init__ tricks.' }}{% raw %}{{ ''.__class__ }}{% endraw %}",
    ],
    ["loop variables as keys", "{% for key in tool %}{{ key }}: {{ tool[key] }}{% endfor %}"],
  ])("%s is safe", (_n, t) => {
    expect(codes(t)).toEqual([]);
  });

  it.each([
    ["dunder attributes (CVE-2024-34359)", "{{ ().__class__.__base__.__subclasses__() }}"],
    ["hex escapes", "{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}"],
    ["unicode escapes", "{{ ''['\\u005f\\u005fclass\\u005f\\u005f'] }}"],
    ["~ concatenation", "{{ cycler['_' ~ '_init__'] }}"],
    ["join of pieces", "{{ ''|attr(['__cl', 'ass__']|join) }}"],
    ["names bound by set", "{% set a = '__glo' ~ 'bals__' %}{{ lipsum|attr(a) }}"],
    ["string multiplication", "{{ ''['_' * 2 ~ 'class' ~ '_' * 2] }}"],
    ["reversed strings", "{{ ''|attr('__ssalc__'|reverse) }}"],
    ["slices", "{{ ''|attr('__ssalc__'[::-1]) }}"],
    ["percent format with %c", "{{ ''|attr('%c%cclass%c%c' % (95, 95, 95, 95)) }}"],
    ["attr() with a name from the messages", "{{ messages|attr(messages[0].content) }}"],
    ["str.format attribute walk", "{{ '{0.__class__.__mro__}'.format(x) }}"],
    ["frame internals", "{{ lipsum.gi_frame.f_back }}"],
    ["interpreter names", "{{ self._TemplateReference__context }}"],
    ["map(attribute=) with a dunder", "{{ messages|map(attribute='__class__')|list }}"],
    ["template that does not parse but names internals", "{{ ''.__class__ ( }}"],
  ])("%s is dangerous", (_n, t) => {
    expect(dangerous(t)).toBe(true);
  });

  it("a template that does not parse and names nothing internal is flagged, not passed", () => {
    expect(codes("{% frobnicate %}")).toEqual(["warning:template-unparsed"]);
  });

  it("{% include %} and friends read other templates from disk: suspicious", () => {
    expect(codes("{% include 'x.j2' %}")).toEqual(["warning:template-include"]);
  });
});
