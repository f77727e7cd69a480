/**
 * Assistant replies as Markdown: `marked` turns it into HTML, DOMPurify removes anything
 * executable, links open in a new tab, and code blocks get a Copy button.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";
import { memo, useMemo, type MouseEvent } from "react";

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    code({ text, lang }) {
      const language = (lang ?? "").match(/^[\w+#.-]+/)?.[0] ?? "";
      const label = language ? `<span class="code-lang">${escapeHtml(language)}</span>` : "<span></span>";
      const cls = language ? ` class="language-${escapeHtml(language)}"` : "";
      return (
        `<div class="code-block"><div class="code-bar">${label}` +
        `<button type="button" class="code-copy" data-copy="">Copy</button></div>` +
        `<pre><code${cls}>${escapeHtml(text)}</code></pre></div>`
      );
    },
  },
});

let hooked = false;
function purifier() {
  if (!hooked) {
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.getAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return purifier().sanitize(html, {
    ADD_ATTR: ["target"],
    FORBID_TAGS: ["style", "form", "input", "textarea", "select", "iframe"],
    // Inline styles would be refused by the CSP anyway; dropping them keeps the console clean.
    FORBID_ATTR: ["style"],
  });
}

async function copyCode(event: MouseEvent<HTMLDivElement>) {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-copy]");
  if (!button) return;
  const code = button.closest(".code-block")?.querySelector("code")?.textContent ?? "";
  try {
    await navigator.clipboard.writeText(code);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => {
    button.textContent = "Copy";
  }, 1500);
}

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // The HTML is sanitized by DOMPurify above.
  return <div className="markdown" onClick={copyCode} dangerouslySetInnerHTML={{ __html: html }} />;
});
