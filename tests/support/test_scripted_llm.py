import openai

from tests.support.scripted_llm import ScriptedLLM, reply


def test_real_openai_client_talks_to_the_scripted_server():
    with ScriptedLLM([reply(status=503), reply({"ok": True})]) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="x", max_retries=2)
        resp = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert resp.choices[0].message.content == '{"ok": true}'
    assert len(llm.requests) == 2, "the 503 was retried by the client"
