// Household form: shows the rent she can bear as the referent types the amounts.
// Progressive enhancement only: the server computes the same figure at "Vérifier".
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("household-form");
  const output = document.getElementById("max-rent");
  if (!form || !output) return;
  const rate = parseFloat(form.dataset.effortRate || "0.3");
  const income = form.querySelector('[name="monthly_income"]');
  const allowance = form.querySelector('[name="housing_allowance"]');
  const amount = (input) => {
    const text = (input && input.value ? input.value : "0").replace(/[\s\u202f\u00a0€]/g, "").replace(",", ".");
    const value = parseFloat(text);
    return Number.isFinite(value) && value >= 0 ? value : null;
  };
  const update = () => {
    const i = amount(income);
    const a = amount(allowance);
    if (i === null || a === null) { output.textContent = ""; return; }
    const max = Math.floor(rate * i + a);
    const pattern = output.dataset.pattern || "{amount} €";
    output.textContent = pattern.replace("{amount}", max.toLocaleString(document.documentElement.lang || "fr"));
  };
  [income, allowance].forEach((input) => input && input.addEventListener("input", update));
  update();
});
