"""The installed app's window, started by the command of its desktop entry from a directory that is not the
checkout: it opens on Chat, and on a fresh install it says the local tier has no model yet and where to get one."""

import os

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait


def test_the_installed_app_opens_on_chat_and_says_the_local_model_is_missing():
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("webkitgtk:browserOptions", {"binary": os.environ["APP_BINARY"], "args": []})
    drv = webdriver.Remote(command_executor=os.environ["WEBDRIVER_URL"], options=opts)
    try:
        wait = WebDriverWait(drv, 60)
        wait.until(lambda d: d.find_elements(By.ID, "chat-input"), message="the chat box")
        chat = drv.find_element(By.ID, "nav-chat")
        assert chat.get_attribute("aria-current") == "page", "the window opens on Chat"
        notice = wait.until(lambda d: d.find_elements(By.ID, "setup-notice"), message="the first-launch notice")[0]
        assert "has no model yet" in notice.text and "Models & Keys" in notice.text, notice.text
        drv.find_element(By.ID, "setup-open-models").click()
        wait.until(lambda d: d.find_element(By.ID, "nav-models").get_attribute("aria-current") == "page",
                   message="Models & Keys")
    finally:
        drv.save_screenshot(os.path.join(os.environ.get("E2E_ARTIFACTS", "."), "installed.png"))
        drv.quit()
