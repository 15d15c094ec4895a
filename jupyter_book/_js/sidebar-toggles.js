// The header's sidebar buttons, working at every width.
//
// pydata-sphinx-theme 0.17 binds its sidebar dialogs (and sphinx-book-theme its wide-screen
// collapse) to the *first* .primary-toggle / .secondary-toggle in the page: since 0.17 that
// is a navbar button that sphinx-book-theme's layout hides, so the buttons a reader sees in
// the article header did nothing (pydata-sphinx-theme issue 2451: on a phone the chapter list
// could not be reached). Each visible toggle hands its click to the bound one.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [bound, ...shown] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of shown) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});
