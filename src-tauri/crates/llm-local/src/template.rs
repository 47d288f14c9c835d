//! Prompt formatting: the GGUF's own chat template, or the built-in Llama 2 / Code Llama Instruct template.

use complexitynet_providers::{Message, Role};
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// `tokenizer.chat_template` from the GGUF metadata, applied by llama.cpp.
    Gguf,
    /// The built-in `[INST] … [/INST]` format of Llama 2 chat and Code Llama Instruct/Python.
    LlamaInst,
}

/// `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]` — the BOS
/// token is added by the tokenizer, so the first `<s>` is left out here.
pub fn llama_inst(messages: &[Message]) -> String {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let mut out = String::new();
    let mut first_user = true;
    for m in messages.iter().filter(|m| m.role != Role::System) {
        match m.role {
            Role::User | Role::Tool => {
                if !out.is_empty() {
                    out.push_str("<s>");
                }
                out.push_str("[INST] ");
                if first_user && !system.is_empty() {
                    out.push_str(&format!("<<SYS>>\n{}\n<</SYS>>\n\n", system.join("\n")));
                }
                first_user = false;
                out.push_str(text_of(m).trim());
                out.push_str(" [/INST]");
            }
            Role::Assistant => {
                out.push(' ');
                out.push_str(m.content.trim());
                out.push_str(" </s>");
            }
            Role::System => {}
        }
    }
    out
}

/// A message as plain text for a template without tools: its text, and any tool results it carries (a
/// conversation pinned to the local tier after tools were used elsewhere).
fn text_of(m: &Message) -> String {
    let mut t = m.content.clone();
    for (id, content, is_error) in m.tool_results() {
        let label = if is_error { "failed" } else { "returned" };
        t.push_str(&format!("\n[tool call {id} {label}]\n{content}"));
    }
    t
}

/// Formats `messages` as the model expects and says which template was used.
pub fn format(model: &LlamaModel, messages: &[Message]) -> Result<(String, TemplateKind), String> {
    match model.chat_template(None) {
        Ok(tmpl) => {
            let chat: Vec<LlamaChatMessage> = messages
                .iter()
                .map(|m| {
                    let role = match m.role {
                        Role::System => "system",
                        Role::User | Role::Tool => "user",
                        Role::Assistant => "assistant",
                    };
                    LlamaChatMessage::new(role.into(), text_of(m)).map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?;
            match model.apply_chat_template(&tmpl, &chat, true) {
                Ok(prompt) => Ok((prompt, TemplateKind::Gguf)),
                // llama.cpp only knows the common templates; an exotic one falls back rather than failing.
                Err(e) => {
                    tracing::warn!(error = %e, "the GGUF chat template is not supported by llama.cpp; using [INST]");
                    Ok((llama_inst(messages), TemplateKind::LlamaInst))
                }
            }
        }
        Err(_) => Ok((llama_inst(messages), TemplateKind::LlamaInst)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inst_template_matches_code_llama_instruct() {
        let msgs = [
            Message::system("Answer with code only."),
            Message::user("Add two numbers."),
            Message::assistant("def add(a, b): return a + b"),
            Message::user("Now subtract."),
        ];
        assert_eq!(
            llama_inst(&msgs),
            "[INST] <<SYS>>\nAnswer with code only.\n<</SYS>>\n\nAdd two numbers. [/INST] def add(a, b): return a + b </s><s>[INST] Now subtract. [/INST]"
        );
        assert_eq!(llama_inst(&[Message::user(" hi ")]), "[INST] hi [/INST]");
    }
}
