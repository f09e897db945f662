/** Forwards a byte stream as text chunks that end on line boundaries where possible. */
export async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  for await (const chunk of stream) {
    const text = partial + decoder.decode(chunk, { stream: true });
    const cut = text.lastIndexOf("\n");
    if (cut < 0 && text.length < 8192) {
      partial = text;
      continue;
    }
    const end = cut < 0 ? text.length : cut + 1;
    onText(text.slice(0, end));
    partial = text.slice(end);
  }
  partial += decoder.decode();
  if (partial) onText(partial);
}
