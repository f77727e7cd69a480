import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Markdown, renderMarkdown } from "./Markdown";

describe("renderMarkdown", () => {
  it("removes anything that could run script", () => {
    const html = renderMarkdown(
      'hi <img src="x" onerror="alert(1)"><script>alert(2)</script> [link](javascript:alert(3)) <iframe src="https://evil.test"></iframe>',
    );
    const box = document.createElement("div");
    box.innerHTML = html;
    expect(box.querySelector("script, iframe")).toBeNull();
    expect(box.querySelector("img")?.getAttribute("onerror")).toBeNull();
    expect(box.querySelector("a")?.getAttribute("href") ?? "").not.toMatch(/javascript/);
  });

  it("opens links in a new tab without giving it the opener", () => {
    const box = document.createElement("div");
    box.innerHTML = renderMarkdown("see [docs](https://example.com)");
    const link = box.querySelector("a")!;
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("renders GFM tables, lists and escaped code", () => {
    const box = document.createElement("div");
    box.innerHTML = renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n```html\n<b>not bold</b>\n```");
    expect(box.querySelectorAll("td")).toHaveLength(2);
    expect(box.querySelectorAll("li")).toHaveLength(2);
    expect(box.querySelector("code.language-html")?.textContent).toBe("<b>not bold</b>");
    expect(box.querySelector("b")).toBeNull();
  });
});

describe("Markdown", () => {
  it("copies a code block with its Copy button", async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue(undefined);
    render(<Markdown text={"```sh\nnpm run build\n```"} />);
    await user.click(screen.getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenCalledWith("npm run build");
    expect(await screen.findByRole("button", { name: "Copied" })).toBeInTheDocument();
  });
});
