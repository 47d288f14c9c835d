export function NotBuiltTab({ title, description }: { title: string; description: string }) {
  return (
    <section className="not-built" data-testid="not-built">
      <h1>{title}</h1>
      <p className="notice">Not built yet. This tab arrives in a later version of ComplexityNet.</p>
      <p>{description}</p>
    </section>
  );
}
